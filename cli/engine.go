package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
)

// engineFlags are the options every command that runs the backbone takes.
type engineFlags struct {
	backbone, runtime, provider string
	jpeg, precision             string
	threads, device             int
	lowPower                    bool
	providerOpts                providerOptions
}

// providerOptions collects --provider-option key=value flags.
type providerOptions map[string]string

func (o *providerOptions) String() string { return fmt.Sprint(map[string]string(*o)) }

// join writes the options as app.EngineOptions wants them, in key order.
func (o providerOptions) join() string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(o)) {
		kv = append(kv, k+"="+o[k])
	}
	return strings.Join(kv, ",")
}

func (o *providerOptions) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" || strings.Contains(s, ",") {
		return fmt.Errorf("%q: want key=value", s)
	}
	if *o == nil {
		*o = providerOptions{}
	}
	(*o)[strings.TrimSpace(k)] = strings.TrimSpace(v)
	return nil
}

func (f *engineFlags) add(fs *flag.FlagSet, withBackbone bool) {
	if withBackbone {
		fs.StringVar(&f.backbone, "backbone", "", "backbone: an installed id (see `backbone list`), or a Keras .h5 file or TensorFlow.js folder to import (default: ImageNet InceptionV3)")
	}
	fs.StringVar(&f.runtime, "runtime", "", "ONNX Runtime library file (default: $ONNXRUNTIME_LIB, next to the executable, or the cache folder)")
	fs.StringVar(&f.provider, "provider", "auto", "execution provider: auto, cpu, cuda, directml, coreml or webgpu")
	fs.IntVar(&f.threads, "threads", 0, "CPU threads for inference (0: one per core)")
	fs.IntVar(&f.device, "device", 0, "GPU number for CUDA and DirectML (0: the first)")
	fs.BoolVar(&f.lowPower, "low-power", false, "WebGPU: use the power-saving graphics adapter (a laptop's integrated GPU)")
	fs.StringVar(&f.precision, "precision", "auto", "image model arithmetic: auto (8 bits where they passed the accuracy check and run faster on this computer; a model's own precision when classifying), float or int8")
	fs.Var(&f.providerOpts, "provider-option", "an option of the GPU provider, key=value, passed to ONNX Runtime as it is (repeatable; for measurements, e.g. prefer_nhwc=1 for CUDA)")
	fs.StringVar(&f.jpeg, "jpeg-decoder", "auto", "JPEG decoder: auto (at a reduced scale: libjpeg-turbo where built in, elsewhere large photos at 1/8) or go (Go's decoder at full size)")
}

func (f *engineFlags) options() (app.EngineOptions, error) {
	p, err := onnxrt.ParseProvider(f.provider)
	if err != nil {
		return app.EngineOptions{}, err
	}
	var jpeg photo.JPEGDecoder
	switch strings.ToLower(strings.TrimSpace(f.jpeg)) {
	case "", "auto":
		jpeg = photo.JPEGAuto
	case "go":
		jpeg = photo.JPEGGo
	default:
		return app.EngineOptions{}, fmt.Errorf("--jpeg-decoder %q: want auto or go", f.jpeg)
	}
	prec, err := app.ParsePrecision(f.precision)
	if err != nil {
		return app.EngineOptions{}, fmt.Errorf("--precision: %w", err)
	}
	return app.EngineOptions{Runtime: f.runtime, Backbone: f.backbone, Provider: p, Threads: f.threads, Device: f.device, LowPower: f.lowPower, JPEG: jpeg, Precision: prec, ProviderOptions: f.providerOpts.join()}, nil
}

// ensureBackbone downloads the ImageNet backbone when none is installed and
// none was named.
func (e *env) ensureBackbone(ctx context.Context, spec string) error {
	if spec != "" {
		return nil
	}
	if _, err := e.app.Backbones.Default(""); !errors.Is(err, app.ErrNoBackbone) {
		return err
	}
	fmt.Fprintln(e.stderr, "Downloading the ImageNet InceptionV3 weights (first use only)…")
	bar := newProgressBar(e.stderr)
	_, err := e.app.Backbones.DownloadImageNet(ctx, e.app.Dirs.Downloads(), nil, bar.download("download"))
	if err != nil {
		return fmt.Errorf("%w\n%v", err, app.ErrNoBackbone)
	}
	bar.line("Downloaded and verified.")
	return nil
}

// openEngine opens the engine the flags describe for a job of runs photo
// runs through the image model (photos times views).
func (e *env) openEngine(ctx context.Context, f *engineFlags, runs int) (*app.Engine, error) {
	return e.openEngineWith(ctx, f, runs, nil)
}

// openEngineWith is openEngine with the options adjusted by adjust (when
// not nil) before the engine opens.
func (e *env) openEngineWith(ctx context.Context, f *engineFlags, runs int, adjust func(*app.EngineOptions)) (*app.Engine, error) {
	opt, err := f.options()
	if err != nil {
		return nil, err
	}
	if adjust != nil {
		adjust(&opt)
	}
	if err := e.ensureBackbone(ctx, opt.Backbone); err != nil {
		return nil, err
	}
	if err := e.checkPrecisionFirst(ctx, opt, runs); err != nil {
		return nil, err
	}
	eng, err := e.app.OpenEngine(ctx, opt)
	if err != nil {
		return nil, err
	}
	e.describeEngine(eng)
	return eng, nil
}

func (e *env) describeEngine(eng *app.Engine) {
	fmt.Fprintf(e.stderr, "Backbone: %s (%s)\n", eng.Backbone.Name, eng.Backbone.ID)
	if eng.Backbone.Note != "" {
		fmt.Fprintln(e.stderr, "Note:", eng.Backbone.Note)
	}
	if eng.Backbone.Offline() {
		fmt.Fprintln(e.stderr, "Note: this is the offline test backbone (nsfwjs), not the ImageNet weights; its features transfer poorly. Run `clasifica backbone download` when online.")
	}
	// Where it runs, once: the providers tried first and why they could
	// not run it come under it.
	ro := eng.RunsOn()
	fmt.Fprintf(e.stderr, "Runs on: %s\n", eng.Device())
	if ro.Partial != "" {
		fmt.Fprintf(e.stderr, "  %s\n", ro.Partial)
	}
	for _, s := range ro.Skipped {
		fmt.Fprintf(e.stderr, "  not on %s: %s\n", s.Name, s.Reason)
	}
	e.describePrecision(eng)
}

// checkPrecisionFirst runs the 8-bit check, with a progress line, where
// auto waits for one (app.PrecisionUnchecked) and the job's runs pay for
// it (app.PrecisionCheckPays), or where 8 bits are asked for and never
// checked; the engine opened next follows what it found. Shorter jobs
// under auto run float without waiting, and say how to check.
func (e *env) checkPrecisionFirst(ctx context.Context, opt app.EngineOptions, runs int) error {
	var why string
	switch {
	case opt.Precision == app.PrecisionInt8 && !opt.FineTuning:
		if _, ok, err := e.app.RememberedPrecisionCheck(opt); err != nil || ok {
			return nil // an error here is the engine's to report, as it opens
		}
		why = "8 bits asked for: checking them on this computer first (once, a minute or two)…"
	default:
		if need, err := e.app.PrecisionUnchecked(opt); err != nil || !need || !app.PrecisionCheckPays(runs) {
			return nil
		}
		why = "Checking 8 bits on this computer first (once, a minute or two): on this many photos they save more time than that."
	}
	fmt.Fprintln(e.stderr, why)
	bar := newProgressBar(e.stderr)
	_, err := e.app.CheckPrecision(ctx, opt, app.PrecisionCheckRequest{Progress: func(p app.PrecisionProgress) {
		bar.update("checking 8 bits", p.Done, p.Total, p.Rate(), "photos/s", p.Remaining(), p.Done == p.Total)
	}})
	return err
}

// describePrecision says which arithmetic the image model runs in, and why.
func (e *env) describePrecision(eng *app.Engine) {
	name := "float"
	if eng.Precision == app.PrecisionInt8 {
		name = "8 bits (int8)"
	}
	why := eng.PrecisionReason
	if why == app.NotChecked {
		why += " (`clasifica bench --check-precision` checks them, once, in a minute or two)"
	}
	fmt.Fprintf(e.stderr, "Precision: %s: %s\n", name, why)
}

// openClassifier reads a model and opens an engine on its backbone.
func (e *env) openClassifier(ctx context.Context, path string, ef *engineFlags) (*app.Classifier, error) {
	m, err := app.OpenModel(path)
	if err != nil {
		return nil, err
	}
	opt, err := ef.options()
	if err != nil {
		return nil, err
	}
	eng, err := e.app.OpenEngineFor(ctx, m, opt)
	if err != nil {
		return nil, err
	}
	e.describeEngine(eng)
	c, err := app.NewClassifier(m, eng)
	if err != nil {
		eng.Close()
		return nil, err
	}
	return c, nil
}
