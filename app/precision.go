package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/quant"
	"github.com/clasifica/clasifica/ml/quant/samples"
	"google.golang.org/protobuf/proto"
)

// Precision is the arithmetic the image model runs in: float (32-bit) or
// 8-bit integers (package quant's QDQ model: about 4 times smaller and, on
// CPUs with VNNI or AMX, 2 to 3 times as fast).
type Precision string

// The precisions. Auto lets Clasifica choose: 8 bits only where the
// backbone passed the accuracy check and 8 bits were measured faster on
// this computer.
const (
	PrecisionAuto  Precision = "auto"
	PrecisionFloat Precision = "float"
	PrecisionInt8  Precision = "int8"
)

// ParsePrecision reads a precision as the command line and Settings write
// it; empty means auto.
func ParsePrecision(s string) (Precision, error) {
	switch p := Precision(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return PrecisionAuto, nil
	case PrecisionAuto, PrecisionFloat, PrecisionInt8:
		return p, nil
	}
	return "", fmt.Errorf("precision %q: want auto, float or int8", s)
}

// modelPrecision is the precision a model's features were computed with.
func modelPrecision(m *model.Model) Precision {
	if m.Backbone.Precision == string(PrecisionInt8) {
		return PrecisionInt8
	}
	return PrecisionFloat
}

// int8ModelFile keeps, in a backbone's folder, its 8-bit feature model,
// as quant.Build makes it.
const int8ModelFile = "features-int8-v" + quant.BuildVersion + ".onnx"

// Int8FeatureModel returns the installed backbone's 8-bit feature model,
// quantising the float one (calibrated on the sample photos built into
// Clasifica, on eng) when the folder has none yet.
func (s *Backbones) Int8FeatureModel(ctx context.Context, in Installed, eng onnxrt.Engine) ([]byte, error) {
	file := filepath.Join(in.Dir, int8ModelFile)
	if data, err := os.ReadFile(file); err == nil {
		return data, nil
	}
	floatBytes, err := s.FeatureModel(ctx, in)
	if err != nil {
		return nil, err
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(floatBytes, &m); err != nil {
		return nil, fmt.Errorf("backbone %s: read the feature model: %w", in.ID, err)
	}
	cal, err := samplePhotos(samples.Calibration)
	if err != nil {
		return nil, err
	}
	eng.Options = onnxrt.Options{Provider: onnxrt.CPU, Threads: eng.Options.Threads}
	q, err := quant.Build(ctx, eng, &m, cal)
	if err != nil {
		return nil, fmt.Errorf("backbone %s: 8-bit model: %w", in.ID, err)
	}
	data, err := proto.Marshal(q)
	if err != nil {
		return nil, fmt.Errorf("backbone %s: 8-bit model: %w", in.ID, err)
	}
	// A failure to keep it only costs the next use a calibration.
	_ = atomicfile.WriteFile(file, data, 0o644)
	return data, nil
}

// samplePhotos decodes the built-in sample photos list returns.
func samplePhotos(list func() ([]samples.Photo, error)) ([]quant.Photo, error) {
	ps, err := list()
	if err != nil {
		return nil, err
	}
	out := make([]quant.Photo, len(ps))
	for i, p := range ps {
		pix, err := p.Pixels(inception.Size)
		if err != nil {
			return nil, err
		}
		out[i] = quant.Photo{Set: p.Set, Label: p.Label, Pix: pix}
	}
	return out, nil
}

// PrecisionCheck is what Clasifica measured of a backbone's 8-bit model
// on this computer: the accuracy guard and the speed of each precision.
type PrecisionCheck struct {
	// Backbone is the backbone's SHA-256 (its identity).
	Backbone string `json:"backbone"`
	// CPU names the processor it was measured on.
	CPU   string            `json:"cpu"`
	Guard quant.GuardReport `json:"guard"`
	// FloatRate and Int8Rate are images per second of each model on the
	// CPU, at batch 8, measured side by side.
	FloatRate float64   `json:"float_images_per_second"`
	Int8Rate  float64   `json:"int8_images_per_second"`
	When      time.Time `json:"measured"`
}

// minSpeedup is how much faster 8 bits must run for auto to choose them:
// a few percent could be noise, and 8 bits cost a little accuracy.
const minSpeedup = 1.2

// Faster reports whether 8 bits ran clearly faster than float.
func (c PrecisionCheck) Faster() bool { return c.Int8Rate >= minSpeedup*c.FloatRate }

// Use reports whether auto runs the image model in 8 bits.
func (c PrecisionCheck) Use() bool { return c.Guard.Passed && c.Faster() }

// Verdict says in words what the check found and what auto does.
func (c PrecisionCheck) Verdict() string {
	speed := fmt.Sprintf("%.1f images/s in 8 bits against %.1f in float on this computer", c.Int8Rate, c.FloatRate)
	switch {
	case !c.Guard.Passed:
		return "8 bits failed the accuracy check: " + c.Guard.Reason + "."
	case !c.Faster():
		return "8 bits passed the accuracy check but are not faster here (" + speed + ")."
	}
	return fmt.Sprintf("8 bits passed the accuracy check and run %.1f× as fast here (%s).", c.Int8Rate/c.FloatRate, speed)
}

// precisionChecks keeps the checks, per backbone, runtime and CPU, as
// providerCache keeps probes.
type precisionChecks = jsonCache[PrecisionCheck]

func precisionKey(in Installed, rt *onnxrt.Runtime) string {
	return in.SHA256 + "|int8 v" + quant.BuildVersion + "|" + rt.Version + "|" + onnxrt.CPUIdentity()
}

// RememberedPrecisionCheck returns the check of backbone (an installed id;
// empty: the default) made on this computer with the runtime the options
// name, if there is one.
func (a *App) RememberedPrecisionCheck(opt EngineOptions) (PrecisionCheck, bool, error) {
	in, err := a.Backbones.Default(opt.Backbone)
	if err != nil {
		return PrecisionCheck{}, false, err
	}
	rt, err := LoadRuntime(opt.Runtime, a.Dirs)
	if err != nil {
		return PrecisionCheck{}, false, err
	}
	c, ok := a.precision.get(precisionKey(in, rt))
	return c, ok, nil
}

// CheckPrecision measures the 8-bit model of the backbone the options
// name on this computer, or returns the measure remembered from before
// unless refresh: the accuracy guard on the built-in sample photos (none
// of them used for calibration) and both models' speed on the CPU. It
// takes a minute or two on a laptop, once per backbone.
func (a *App) CheckPrecision(ctx context.Context, opt EngineOptions, refresh bool) (PrecisionCheck, error) {
	in, err := a.ResolveBackbone(ctx, opt.Backbone)
	if err != nil {
		return PrecisionCheck{}, err
	}
	rt, err := LoadRuntime(opt.Runtime, a.Dirs)
	if err != nil {
		return PrecisionCheck{}, err
	}
	return a.checkPrecision(ctx, in, onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: opt.Threads}}, refresh)
}

func (a *App) checkPrecision(ctx context.Context, in Installed, eng onnxrt.Engine, refresh bool) (PrecisionCheck, error) {
	key := precisionKey(in, eng.Runtime)
	if c, ok := a.precision.get(key); ok && !refresh {
		return c, nil
	}
	eng.Options = onnxrt.Options{Provider: onnxrt.CPU, Threads: eng.Options.Threads}
	floatBytes, err := a.Backbones.FeatureModel(ctx, in)
	if err != nil {
		return PrecisionCheck{}, err
	}
	int8Bytes, err := a.Backbones.Int8FeatureModel(ctx, in, eng)
	if err != nil {
		return PrecisionCheck{}, err
	}
	var smp quant.Samples
	for _, l := range []struct {
		dst  *[]quant.Photo
		list func() ([]samples.Photo, error)
	}{{&smp.Calibration, samples.Calibration}, {&smp.Reference, samples.Reference}, {&smp.Guard, samples.Guard}} {
		if *l.dst, err = samplePhotos(l.list); err != nil {
			return PrecisionCheck{}, err
		}
	}
	g, err := quant.Guard(ctx, eng, floatBytes, int8Bytes, smp)
	if err != nil {
		return PrecisionCheck{}, fmt.Errorf("backbone %s: 8-bit check: %w", in.ID, err)
	}
	c := PrecisionCheck{Backbone: in.SHA256, CPU: onnxrt.CPUIdentity(), Guard: g, When: time.Now()}
	c.FloatRate, c.Int8Rate, err = compareSpeed(ctx, eng, floatBytes, int8Bytes, smp.Guard)
	if err != nil {
		return PrecisionCheck{}, fmt.Errorf("backbone %s: 8-bit speed: %w", in.ID, err)
	}
	a.precision.put(key, c)
	return c, nil
}

// compareSpeed measures both models' images per second at batch 8 on
// photos, alternating between them so that a change of the machine's
// load touches both alike, and keeps each one's best round.
func compareSpeed(ctx context.Context, eng onnxrt.Engine, floatBytes, int8Bytes []byte, photos []quant.Photo) (float64, float64, error) {
	const batch, rounds, perRound = 8, 3, 2
	var in []float32
	for _, p := range photos[:batch] {
		in = append(in, p.Pix...)
	}
	var rates [2]float64
	sessions := make([]*onnxrt.Session, 2)
	for i, m := range [][]byte{floatBytes, int8Bytes} {
		s, err := eng.NewSession(m, inception.InputName, inception.OutputName)
		if err != nil {
			return 0, 0, err
		}
		defer s.Close()
		// The first run sets up the session's buffers.
		if _, err := s.Run(ctx, in, batch, inception.Size, inception.Size, 3); err != nil {
			return 0, 0, err
		}
		sessions[i] = s
	}
	for range rounds {
		for i, s := range sessions {
			start := time.Now()
			for range perRound {
				if _, err := s.Run(ctx, in, batch, inception.Size, inception.Size, 3); err != nil {
					return 0, 0, err
				}
			}
			rates[i] = max(rates[i], batch*perRound/time.Since(start).Seconds())
		}
	}
	return rates[0], rates[1], nil
}

// neededPrecision is the precision an engine for opt's model must run:
// the one asked for, or the model's own; empty when no model names one.
func (opt EngineOptions) neededPrecision() Precision {
	switch {
	case opt.model == "":
		return ""
	case opt.Precision == PrecisionFloat || opt.Precision == PrecisionInt8:
		return opt.Precision
	}
	return opt.model
}

// NotChecked is the reason auto gives for float where 8 bits were never
// checked on this computer: the window and the command line each say how
// to check.
const NotChecked = "8 bits are not checked yet on this computer"

// choosePrecision decides the precision of an engine on backbone in with
// options opt (exec runs it), and says why. tuned is set for a model
// with fine-tuned blocks.
func (a *App) choosePrecision(ctx context.Context, in Installed, opt EngineOptions, exec onnxrt.Engine, tuned bool) (Precision, string, error) {
	want := opt.Precision
	if want == "" {
		want = PrecisionAuto
	}
	switch {
	case tuned:
		return PrecisionFloat, "a fine-tuned model runs its image model in float (the 8-bit check covers the backbone's own layers)", nil
	case opt.FineTuning:
		if want == PrecisionInt8 {
			return PrecisionFloat, "fine-tuning reads the image model's mixed8 layer in float, so its features are float too (8 bits asked for)", nil
		}
		return PrecisionFloat, "fine-tuning reads the image model's mixed8 layer in float, so its features are float too", nil
	case opt.model != "" && want == PrecisionAuto:
		if opt.model == PrecisionInt8 {
			return PrecisionInt8, "the model was trained on 8-bit features, so its labels match its training", nil
		}
		return PrecisionFloat, "the model was trained on float features", nil
	case want == PrecisionFloat:
		if opt.model == PrecisionInt8 {
			return PrecisionFloat, "asked for, although the model was trained on 8-bit features: a few labels may differ from its training", nil
		}
		return PrecisionFloat, "asked for", nil
	}
	// 8 bits asked for, or auto on a backbone of its own.
	if want == PrecisionAuto && !a.runsOnCPU(opt) {
		return PrecisionFloat, "8 bits are measured for the processor, and an accelerator may run the image model here", nil
	}
	key := precisionKey(in, exec.Runtime)
	c, ok := a.precision.get(key)
	// Auto never starts the check (a minute or two) on its own: it uses
	// what a check asked for found. Asking for 8 bits runs it.
	if !ok && want == PrecisionInt8 {
		var err error
		if c, err = a.checkPrecision(ctx, in, exec, false); err != nil {
			return "", "", err
		}
		ok = true
	}
	switch {
	case !ok:
		return PrecisionFloat, NotChecked, nil
	case !c.Guard.Passed:
		return PrecisionFloat, c.Verdict(), nil
	case want == PrecisionInt8:
		if opt.model == PrecisionFloat {
			return PrecisionInt8, "asked for, although the model was trained on float features: a few labels may differ from its training", nil
		}
		return PrecisionInt8, "asked for; " + c.Verdict(), nil
	case !c.Faster():
		return PrecisionFloat, c.Verdict(), nil
	}
	return PrecisionInt8, c.Verdict(), nil
}

// runsOnCPU reports whether an engine with opt runs on the CPU: asked
// for, or Automatic where no accelerator is available (as last probed).
func (a *App) runsOnCPU(opt EngineOptions) bool {
	switch opt.Provider {
	case onnxrt.CPU:
		return true
	case onnxrt.Auto, "":
	default:
		return false
	}
	st, err := a.Providers(opt.Runtime, false)
	if err != nil {
		return false
	}
	for _, s := range st {
		if s.Available && s.Provider != onnxrt.CPU {
			return false
		}
	}
	return true
}

// GuardMinCosine is the mean-centred cosine the 8-bit features must reach
// against the float ones (package quant's bar), for display.
const GuardMinCosine = quant.MinCosine
