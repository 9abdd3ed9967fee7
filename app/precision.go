package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/internal/progress"
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
// as quant.Build makes it on this CPU (quant.BuildKind: on x86 without
// VNNI, with uint8 kernels in the stem).
var int8ModelFile = "features-" + quant.BuildKind() + "-v" + quant.BuildVersion + ".onnx"

// Int8FeatureModel returns the installed backbone's 8-bit feature model,
// quantising the float one (calibrated on the sample photos built into
// Clasifica, on eng) when the folder has none yet.
func (s *Backbones) Int8FeatureModel(ctx context.Context, in Installed, eng onnxrt.Engine) ([]byte, error) {
	data, _, err := s.int8FeatureModel(ctx, in, eng, nil)
	return data, err
}

// int8FeatureModel is Int8FeatureModel calling step after each
// calibration photo; when it quantised, calF holds the calibration
// photos' float features, which quantising computed (nil otherwise).
func (s *Backbones) int8FeatureModel(ctx context.Context, in Installed, eng onnxrt.Engine, step quant.Step) (data []byte, calF []float32, err error) {
	file := filepath.Join(in.Dir, int8ModelFile)
	if data, err := os.ReadFile(file); err == nil {
		return data, nil, nil
	}
	floatBytes, err := s.FeatureModel(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(floatBytes, &m); err != nil {
		return nil, nil, fmt.Errorf("backbone %s: read the feature model: %w", in.ID, err)
	}
	cal, err := samplePhotos(samples.Calibration)
	if err != nil {
		return nil, nil, err
	}
	eng.Options = onnxrt.Options{Provider: onnxrt.CPU, Threads: eng.Options.Threads}
	q, calF, err := quant.Build(ctx, eng, &m, cal, step)
	if err != nil {
		return nil, nil, fmt.Errorf("backbone %s: 8-bit model: %w", in.ID, err)
	}
	if data, err = proto.Marshal(q); err != nil {
		return nil, nil, fmt.Errorf("backbone %s: 8-bit model: %w", in.ID, err)
	}
	// Written whole or not at all (a kill during the calibration leaves
	// no file); a failure to keep it only costs the next use a
	// calibration.
	_ = atomicfile.WriteFile(file, data, 0o644)
	return data, calF, nil
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
	// CPU, at batch 8, measured side by side on the guard photos.
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

// precisionKey names a check by what it measured: the backbone, the
// 8-bit model's kind and version (a new kind, as on CPUs without VNNI,
// checks again rather than reuse the old model's verdict), the runtime and
// the CPU.
func precisionKey(in Installed, rt *onnxrt.Runtime) string {
	return in.SHA256 + "|" + quant.BuildKind() + " v" + quant.BuildVersion + "|" + rt.Version + "|" + onnxrt.CPUIdentity()
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

// PrecisionCheckRequest says how CheckPrecision runs.
type PrecisionCheckRequest struct {
	// Refresh measures again where a check is remembered.
	Refresh bool
	// Background runs the check as work nobody waits for: on Linux its
	// threads run at a lower priority (nice 10), so that whatever else
	// the computer does goes first, and Busy lets the user's own work
	// in Clasifica go first.
	Background bool
	// Busy, when not nil, reports whether work of the user's runs (a
	// training, a classification): between batches of photos the check
	// waits until it has ended.
	Busy func() bool
	// Progress, when not nil, is told how far the check has got, after
	// each batch of photos and when it pauses or goes on.
	Progress func(PrecisionProgress)
}

// PrecisionProgress is how far an 8-bit check has got: photo runs
// through an image model (the calibration's two passes when the 8-bit
// model is built, then the guard's), done of total, with the time it ran
// (pauses left out, so that the rate and the time left are the work's).
// Paused is set while it waits for the user's work.
type PrecisionProgress struct {
	progress.Progress
	Paused bool
}

// CheckPrecision measures the 8-bit model of the backbone the options
// name on this computer, or returns the measure remembered from before
// unless req.Refresh: the accuracy guard on the built-in sample photos
// (none of them used for calibration) and both models' speed on the CPU,
// measured on the same photos. It takes a minute or two on a laptop,
// once per backbone. The measure is remembered only once complete: a
// check cancelled or killed part way leaves no record.
func (a *App) CheckPrecision(ctx context.Context, opt EngineOptions, req PrecisionCheckRequest) (PrecisionCheck, error) {
	in, err := a.ResolveBackbone(ctx, opt.Backbone)
	if err != nil {
		return PrecisionCheck{}, err
	}
	rt, err := LoadRuntime(opt.Runtime, a.Dirs)
	if err != nil {
		return PrecisionCheck{}, err
	}
	eng := onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: opt.Threads}}
	if !req.Background {
		return a.checkPrecision(ctx, in, eng, req)
	}
	type result struct {
		c   PrecisionCheck
		err error
	}
	done := make(chan result, 1)
	go func() {
		// The sessions' threads are made by, and inherit the priority
		// of, this goroutine's thread, which ends with it.
		lowerPriority()
		c, err := a.checkPrecision(ctx, in, eng, req)
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}

func (a *App) checkPrecision(ctx context.Context, in Installed, eng onnxrt.Engine, req PrecisionCheckRequest) (PrecisionCheck, error) {
	key := precisionKey(in, eng.Runtime)
	if c, ok := a.precision.get(key); ok && !req.Refresh {
		return c, nil
	}
	eng.Options = onnxrt.Options{Provider: onnxrt.CPU, Threads: eng.Options.Threads}
	var smp quant.Samples
	for _, l := range []struct {
		dst  *[]quant.Photo
		list func() ([]samples.Photo, error)
	}{{&smp.Calibration, samples.Calibration}, {&smp.Reference, samples.Reference}, {&smp.Guard, samples.Guard}} {
		var err error
		if *l.dst, err = samplePhotos(l.list); err != nil {
			return PrecisionCheck{}, err
		}
	}
	// Building the 8-bit model runs the calibration photos twice and
	// gives their float features, which the guard otherwise runs.
	guardRuns := len(smp.Calibration) + len(smp.Reference) + 2*len(smp.Guard)
	total := guardRuns
	if _, err := os.Stat(filepath.Join(in.Dir, int8ModelFile)); err != nil {
		total += len(smp.Calibration)
	}
	step := newCheckSteps(ctx, total, req)
	floatBytes, err := a.Backbones.FeatureModel(ctx, in)
	if err != nil {
		return PrecisionCheck{}, err
	}
	int8Bytes, calF, err := a.Backbones.int8FeatureModel(ctx, in, eng, step.step)
	if err != nil {
		return PrecisionCheck{}, err
	}
	smp.CalibrationFeatures = calF
	if calF == nil && step.total != guardRuns {
		// Another check made the 8-bit model meanwhile.
		step.total = step.done + guardRuns
	}
	g, sp, err := quant.Guard(ctx, eng, floatBytes, int8Bytes, smp, step.step)
	if err != nil {
		return PrecisionCheck{}, fmt.Errorf("backbone %s: 8-bit check: %w", in.ID, err)
	}
	c := PrecisionCheck{Backbone: in.SHA256, CPU: onnxrt.CPUIdentity(), Guard: g, FloatRate: sp.Float, Int8Rate: sp.Int8, When: time.Now()}
	a.precision.put(key, c)
	return c, nil
}

// checkSteps counts a check's photo runs for its progress and makes it
// wait while the user's work runs.
type checkSteps struct {
	ctx         context.Context
	req         PrecisionCheckRequest
	done, total int
	start       time.Time
	paused      time.Duration
}

func newCheckSteps(ctx context.Context, total int, req PrecisionCheckRequest) *checkSteps {
	s := &checkSteps{ctx: ctx, req: req, total: total, start: time.Now()}
	s.report(false)
	return s
}

// busyPoll is how often a paused check looks whether the user's work
// has ended: a check resuming a quarter of a second late costs nothing.
const busyPoll = 250 * time.Millisecond

// step is the check's quant.Step.
func (s *checkSteps) step(photos int) error {
	s.done += photos
	s.report(false)
	if s.req.Busy != nil && s.req.Busy() {
		s.report(true)
		t0 := time.Now()
		for s.req.Busy() {
			select {
			case <-s.ctx.Done():
				return s.ctx.Err()
			case <-time.After(busyPoll):
			}
		}
		s.paused += time.Since(t0)
		s.report(false)
	}
	return s.ctx.Err()
}

func (s *checkSteps) report(paused bool) {
	if s.req.Progress == nil {
		return
	}
	s.req.Progress(PrecisionProgress{Progress: progress.Progress{Done: s.done, Total: s.total, Elapsed: time.Since(s.start) - s.paused}, Paused: paused})
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
			c, ok := a.precision.get(precisionKey(in, exec.Runtime))
			if floatPays(opt.closeShare, c, ok) {
				return PrecisionFloat, fmt.Sprintf("the model was trained on 8-bit features, but %.0f%% of its photos were close calls, which 8 bits answer in float: float throughout is faster", 100*opt.closeShare), nil
			}
		}
		if opt.model == PrecisionInt8 {
			return PrecisionInt8, "the model was trained on 8-bit features, so its labels match its training (close calls in float)", nil
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
	// Opening an engine never waits for the check (a minute or two)
	// under auto: it uses what a check found, and the window and the
	// long commands run one first where none was made
	// (PrecisionUnchecked). Asking for 8 bits runs it.
	if !ok && want == PrecisionInt8 {
		var err error
		if c, err = a.checkPrecision(ctx, in, exec, PrecisionCheckRequest{}); err != nil {
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

// PrecisionUnchecked reports whether an engine with opt would choose its
// precision by a check of 8 bits that was never made on this computer:
// auto, for features of the backbone's own (not a model's, not
// fine-tuning's), on the CPU. An engine opened so runs float for now
// (reason NotChecked); once CheckPrecision has run, engines opened again
// follow what it found.
func (a *App) PrecisionUnchecked(opt EngineOptions) (bool, error) {
	if (opt.Precision != PrecisionAuto && opt.Precision != "") || opt.FineTuning || opt.model != "" || !a.runsOnCPU(opt) {
		return false, nil
	}
	_, ok, err := a.RememberedPrecisionCheck(opt)
	return !ok && err == nil, err
}

// checkPaysFrom is how many photo runs of the image model (photos times
// views) a job must have for an 8-bit check made first to pay for itself
// in that job alone. Measured here (2 cores, load average 6–8), twice: a
// check with the 8-bit model still to build took 1 min 50 s and 1 min
// 41 s, with float at 4.1 and 4.9 photos a second in it, so it costs
// about as much as 450–490 photos in float (1 min 35 s of a quiet 2-core
// laptop at 5 photos a second, 16 s on 8 fast cores at 30); as both
// scale with the machine, the ratio holds on any. Each photo in 8 bits
// saves 1 − float/8-bit rate of a float photo's time: a third where 8
// bits run 1.5 times as fast (the aim without VNNI), so about
// 3 × 470 ≈ 1,400 photos before the check is earned back. Here, with VNNI
// and AMX, 8 bits ran 1.9–2.4 times as fast in the check, which would
// earn it back from about 850–950 photos; the bar is the slower CPUs' so
// that none of them waits for a check that does not pay. Below it, a
// command would make its user wait longer for the check than it saves
// them; the window checks in the background instead. Photos whose float
// features are cached cost no time in float, which this leaves out: it
// only moves the break-even where a large folder was already trained on
// in float.
const checkPaysFrom = 1400

// PrecisionCheckPays reports whether a job that runs the image model on
// this many photos (times augmented views) ends sooner with an 8-bit
// check first than in float without one.
func PrecisionCheckPays(runs int) bool { return runs >= checkPaysFrom }

// CountPhotos counts the files under dir (hidden ones left out), up to
// limit: an estimate of its photos, cheap enough to make before a job
// (no file is opened), for PrecisionCheckPays.
func CountPhotos(dir string, limit int) int {
	n := 0
	errEnough := errors.New("enough")
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil // what cannot be read is not counted
		case strings.HasPrefix(d.Name(), ".") && path != dir:
			if d.IsDir() {
				return filepath.SkipDir
			}
		case d.Type().IsRegular():
			if n++; n >= limit {
				return errEnough
			}
		}
		return nil
	})
	return n
}

// staleChoice reports whether eng chose float only because 8 bits were
// not checked, and a check was made since.
func (a *App) staleChoice(eng *Engine) bool {
	if eng.PrecisionReason != NotChecked {
		return false
	}
	_, ok := a.precision.get(precisionKey(eng.Backbone, eng.Runtime))
	return ok
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
