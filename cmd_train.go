package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/train"
)

// engineFlags are the options every command that runs the backbone takes.
type engineFlags struct {
	backbone, runtime, provider string
	threads                     int
}

func (f *engineFlags) add(fs *flag.FlagSet, withBackbone bool) {
	if withBackbone {
		fs.StringVar(&f.backbone, "backbone", "", "backbone: an installed id (see `backbone list`), or a Keras .h5 file or TensorFlow.js folder to import (default: ImageNet InceptionV3)")
	}
	fs.StringVar(&f.runtime, "runtime", "", "ONNX Runtime library file (default: $ONNXRUNTIME_LIB, next to the executable, or the cache folder)")
	fs.StringVar(&f.provider, "provider", "auto", "execution provider: auto, cpu, cuda, directml or coreml")
	fs.IntVar(&f.threads, "threads", 0, "CPU threads for inference (0: one per core)")
}

func (f *engineFlags) options() (app.EngineOptions, error) {
	p, err := onnxrt.ParseProvider(f.provider)
	if err != nil {
		return app.EngineOptions{}, err
	}
	return app.EngineOptions{Runtime: f.runtime, Backbone: f.backbone, Provider: p, Threads: f.threads}, nil
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
	_, err := e.app.Backbones.DownloadImageNet(ctx, e.app.Dirs.Downloads(), nil, func(d app.Download) {
		bar.update("download", int(d.Done>>20), int(d.Total>>20), d.Rate()/(1<<20), "MB/s", d.Remaining(), false)
	})
	if err != nil {
		return fmt.Errorf("%w\n%v", err, app.ErrNoBackbone)
	}
	bar.line("Downloaded and verified.")
	return nil
}

func (e *env) openEngine(ctx context.Context, f *engineFlags) (*app.Engine, error) {
	opt, err := f.options()
	if err != nil {
		return nil, err
	}
	if err := e.ensureBackbone(ctx, opt.Backbone); err != nil {
		return nil, err
	}
	eng, err := e.app.OpenEngine(opt)
	if err != nil {
		return nil, err
	}
	e.describeEngine(eng)
	return eng, nil
}

func (e *env) describeEngine(eng *app.Engine) {
	fmt.Fprintf(e.stderr, "Backbone: %s (%s), on %s\n", eng.Backbone.Name, eng.Backbone.ID, eng.Device())
	if eng.Backbone.Offline() {
		fmt.Fprintln(e.stderr, "Note: this is the offline test backbone (nsfwjs), not the ImageNet weights; its features transfer poorly. Run `clasifica backbone download` when online.")
	}
	if why := eng.Session.FallbackReason(); why != nil {
		fmt.Fprintf(e.stderr, "(no accelerator: %v)\n", why)
	}
}

func parseGranularity(s string) (dataset.Granularity, error) {
	switch strings.ToLower(s) {
	case "breed", "":
		return dataset.Breed, nil
	case "species":
		return dataset.Species, nil
	}
	return 0, fmt.Errorf("--granularity %q: want breed or species", s)
}

func runTrain(ctx context.Context, e *env, args []string) error {
	fs := e.flags("train", "--data PHOTOS/ --out MODEL [options]")
	var ef engineFlags
	ef.add(fs, true)
	o := train.DefaultOptions()
	dopt := dataset.DefaultOptions()
	data := fs.String("data", "", "folder of photos: one subfolder per class (or train/ and test/ folders, or the Oxford-IIIT Pet dataset)")
	out := fs.String("out", "", "model file to write")
	cont := fs.String("continue", "", "model file to continue training from")
	format := fs.String("format", "table", "output format: table or json")
	gran := fs.String("granularity", "breed", "Oxford-IIIT Pet classes: breed or species")
	noWeights := fs.Bool("no-class-weights", false, "do not counter class imbalance with class weights")
	fs.IntVar(&o.Epochs, "epochs", o.Epochs, "most epochs to train")
	fs.IntVar(&o.Patience, "patience", o.Patience, "stop after this many epochs without better validation loss (0: never)")
	fs.IntVar(&o.BatchSize, "batch", o.BatchSize, "training batch size")
	fs.Float64Var(&o.LearningRate, "lr", o.LearningRate, "learning rate")
	fs.IntVar(&o.Hidden, "hidden", o.Hidden, "hidden units of the head (0: a linear softmax head)")
	fs.Float64Var(&o.Dropout, "dropout", o.Dropout, "dropout rate")
	fs.Float64Var(&o.LabelSmoothing, "label-smoothing", o.LabelSmoothing, "label smoothing")
	fs.Float64Var(&o.WeightDecay, "weight-decay", o.WeightDecay, "decoupled weight decay")
	fs.IntVar(&o.Augment, "augment", o.Augment, "augmented views per training photo (0: off)")
	fs.IntVar(&o.FineTune, "fine-tune", o.FineTune, "after the head, fine-tune this many top blocks of the image model with it: 0 (off), 1 (mixed10) or 2 (mixed9 and mixed10); slow without a GPU")
	fs.IntVar(&o.FineTuneEpochs, "fine-tune-epochs", o.FineTuneEpochs, "most fine-tuning epochs")
	fs.Float64Var(&o.FineTuneLearningRate, "fine-tune-lr", o.FineTuneLearningRate, "fine-tuning learning rate (SGD with momentum 0.9)")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed")
	fs.Float64Var(&dopt.Validation, "val", dopt.Validation, "share of photos held out for validation")
	fs.Float64Var(&dopt.Test, "test", dopt.Test, "share of photos held out for testing (when the folder has no test split)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, e, "data", "out"); err != nil {
		return err
	}
	var err error
	if dopt.Granularity, err = parseGranularity(*gran); err != nil {
		return err
	}
	o.ClassWeights = !*noWeights
	o.Validation, o.Test = dopt.Validation, dopt.Test
	if err := o.Validate(); err != nil {
		return err
	}
	eng, err := e.openEngine(ctx, &ef)
	if err != nil {
		return err
	}
	defer eng.Close()

	bar := newProgressBar(e.stderr)
	warnings := 0
	res, err := e.app.Train(ctx, eng, app.TrainRequest{
		Data: *data, DataOptions: dopt, Options: o, Continue: *cont, Out: app.ModelPath(*out),
	}, func(ev any) {
		switch ev := ev.(type) {
		case app.Scanning:
			bar.update("reading photos", ev.Done, ev.Total, 0, "", 0, ev.Done == ev.Total)
		case train.PhaseStarted:
			if ev.Phase == train.Training {
				bar.line("%-6s %9s %9s %9s %9s %7s", "epoch", "loss", "accuracy", "val_loss", "val_acc", "seconds")
			}
		case train.Extraction:
			p := ev.Progress
			bar.update("features", p.Done, p.Total, p.Rate(), "images/s", p.Remaining(), p.Done == p.Total)
		case train.EpochFinished:
			mark := ""
			if ev.Best && ev.HasValidation {
				mark = "  *"
			}
			val := fmt.Sprintf("%9s %9s", "-", "-")
			if ev.HasValidation {
				val = fmt.Sprintf("%9.4f %8.1f%%", ev.ValLoss, 100*ev.ValAccuracy)
			}
			bar.line("%2d/%-3d %9.4f %8.1f%% %s %7.2f%s", ev.Epoch.Epoch, ev.Epochs, ev.Loss, 100*ev.Accuracy, val, ev.Seconds, mark)
		case train.Warning:
			warnings++
			if warnings <= 20 {
				bar.line("skipped: %s", ev.Message)
			} else if warnings == 21 {
				bar.line("(more skipped files not shown)")
			}
		}
	})
	if err != nil {
		return err
	}
	m := res.Model
	summary := trainSummary{
		Model: app.ModelPath(*out), Labels: m.Labels, Backbone: m.Backbone.ID, Epochs: len(m.Training.Epochs),
		BestEpoch: m.Training.BestEpoch, StoppedEarly: res.StoppedEarly, Train: m.Training.TrainCount,
		Validation: m.Training.ValCount, Test: len(m.Training.Test), Skipped: res.Skipped,
		Seconds: m.Training.Duration, Evaluated: res.Evaluated,
	}
	if len(m.Training.Epochs) > 0 {
		best := m.Training.Epochs[m.Training.BestEpoch-1]
		summary.TrainAccuracy = best.Accuracy
		if best.HasValidation {
			summary.ValAccuracy = &best.ValAccuracy
		}
	}
	if res.Report != nil {
		summary.Accuracy = &res.Report.Accuracy
	}
	if *format == "json" {
		return writeJSON(e.stdout, summary)
	}
	fmt.Fprintf(e.stdout, "Saved %s: %d classes, best epoch %d of %d", summary.Model, len(m.Labels), summary.BestEpoch, summary.Epochs)
	if res.StoppedEarly {
		fmt.Fprint(e.stdout, " (stopped early)")
	}
	fmt.Fprintf(e.stdout, ", %s.\n", time.Duration(summary.Seconds*float64(time.Second)).Round(100*time.Millisecond))
	if res.Report != nil {
		fmt.Fprintf(e.stdout, "%s accuracy: %.1f%% on %d photos (top-%d: %.1f%%)\n", strings.ToUpper(res.Evaluated[:1])+res.Evaluated[1:],
			100*res.Report.Accuracy, res.Report.N, res.Report.K, 100*res.Report.TopK)
	}
	if res.Skipped > 0 {
		fmt.Fprintf(e.stdout, "%d photos could not be decoded and were skipped.\n", res.Skipped)
	}
	return nil
}

type trainSummary struct {
	Model         string   `json:"model"`
	Labels        []string `json:"labels"`
	Backbone      string   `json:"backbone"`
	Epochs        int      `json:"epochs"`
	BestEpoch     int      `json:"best_epoch"`
	StoppedEarly  bool     `json:"stopped_early"`
	Train         int      `json:"train"`
	Validation    int      `json:"validation"`
	Test          int      `json:"test"`
	Skipped       int      `json:"skipped"`
	TrainAccuracy float64  `json:"train_accuracy"`
	ValAccuracy   *float64 `json:"val_accuracy,omitempty"`
	Evaluated     string   `json:"evaluated,omitempty"`
	Accuracy      *float64 `json:"accuracy,omitempty"`
	Seconds       float64  `json:"seconds"`
}
