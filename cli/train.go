package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

func parseGranularity(s string) (dataset.Granularity, error) {
	switch strings.ToLower(s) {
	case "breed", "":
		return dataset.Breed, nil
	case "species":
		return dataset.Species, nil
	}
	return 0, fmt.Errorf("--granularity %q: want breed or species", s)
}

// trainFlags are train's options, parsed.
type trainFlags struct {
	engine          engineFlags
	data, out, cont string
	format          string
	opt             train.Options
	dopt            dataset.Options
}

func parseTrain(e *env, args []string) (*trainFlags, error) {
	fs := e.flags("train", "--data PHOTOS/ --out MODEL [options]")
	f := &trainFlags{opt: train.DefaultOptions(), dopt: dataset.DefaultOptions()}
	o := &f.opt
	f.engine.add(fs, true)
	fs.StringVar(&f.data, "data", "", "folder of photos: one subfolder per class (or train/ and test/ folders, or the Oxford-IIIT Pet dataset)")
	fs.StringVar(&f.out, "out", "", "model file to write")
	fs.StringVar(&f.cont, "continue", "", "model file to continue training from")
	fs.StringVar(&f.format, "format", "table", "output format: table or json")
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
	fs.Float64Var(&o.TargetAccuracy, "target-accuracy", o.TargetAccuracy, "accuracy asked of the photos the model answers: below the confidence that reaches it on the validation photos, it says \"not sure\" (0: answer every photo)")
	fs.Float64Var(&f.dopt.Validation, "val", f.dopt.Validation, "share of photos held out for validation")
	fs.Float64Var(&f.dopt.Test, "test", f.dopt.Test, "share of photos held out for testing (when the folder has no test split)")
	if _, err := parse(fs, args); err != nil {
		return nil, err
	}
	if err := need(fs, e, "data", "out"); err != nil {
		return nil, err
	}
	var err error
	if f.dopt.Granularity, err = parseGranularity(*gran); err != nil {
		return nil, err
	}
	o.ClassWeights = !*noWeights
	o.Validation, o.Test = f.dopt.Validation, f.dopt.Test
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

func runTrain(ctx context.Context, e *env, args []string) error {
	f, err := parseTrain(e, args)
	if err != nil {
		return err
	}
	var cont *model.Model
	if f.cont != "" {
		if cont, err = app.OpenModel(f.cont); err != nil {
			return err
		}
	}
	// Each photo runs through the image model once per view.
	runs := app.CountPhotos(f.data, 1<<20) * (1 + f.opt.Augment)
	eng, err := e.openEngineWith(ctx, &f.engine, runs, func(o *app.EngineOptions) {
		o.FineTuning = f.opt.FineTune > 0
		if cont != nil {
			// A continued model's head goes on with features of the
			// precision it learnt on.
			*o = o.ForModel(cont)
			o.FineTuning = o.FineTuning || len(cont.Top) > 0
		}
	})
	if err != nil {
		return err
	}
	defer eng.Close()
	// A continued model is compared with the new one on the same photos,
	// which needs the engine after training.
	var base *app.Classifier
	if f.cont != "" {
		m := cont
		if app.CanCompare(m, eng) {
			if base, err = app.NewClassifier(m, eng); err != nil {
				return err
			}
		}
	}
	p := &trainPrinter{bar: newProgressBar(e.stderr)}
	res, err := e.app.Train(ctx, eng, app.TrainRequest{
		Data: f.data, DataOptions: f.dopt, Options: f.opt, Continue: f.cont, Out: app.ModelPath(f.out),
		// Otherwise only the summary reads eng after training: where it ran.
		ReleaseEngine: base == nil,
	}, p.event)
	if err != nil {
		return err
	}
	s := summarize(app.ModelPath(f.out), res, eng.RunsOn())
	if base != nil && res.Report != nil {
		if s.Comparison, err = base.Compare(ctx, res); err != nil {
			return err
		}
	} else if f.cont != "" {
		s.compareNote = "The model continued from has fine-tuned blocks or another image model: it is not compared with the new one."
	}
	if f.format == "json" {
		return writeJSON(e.stdout, s)
	}
	return s.write(e.stdout)
}

// trainPrinter shows a training job's progress on standard error: a bar
// while photos are read and features extracted, a line per epoch, and the
// first skipped files.
type trainPrinter struct {
	bar      *progressBar
	warnings int
	// stage names what the image model computes: the features, or, for
	// fine-tuning, the activations it starts from.
	stage string
}

func (p *trainPrinter) event(ev app.Event) {
	bar := p.bar
	switch ev := ev.(type) {
	case app.Scanning:
		bar.update("reading photos", ev.Done, ev.Total, ev.Rate(), "files/s", ev.Remaining(), ev.Done == ev.Total)
	case train.PhaseStarted:
		switch ev.Phase {
		case train.Training:
			bar.line("%-6s %9s %9s %9s %9s %7s", "epoch", "loss", "accuracy", "val_loss", "val_acc", "seconds")
		case train.Extracting:
			p.stage = "features"
		case train.Caching:
			p.stage = "fine-tuning input"
		}
	case train.Extraction:
		pr := ev.Progress
		if p.stage == "" {
			p.stage = "features"
		}
		bar.update(p.stage, pr.Done, pr.Total, pr.Rate(), "images/s", pr.Remaining(), pr.Done == pr.Total)
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
	case train.Calibration:
		// The out-of-fold heads that choose the "not sure" threshold.
		pr := ev.Progress
		bar.update(fmt.Sprintf("not-sure threshold, %d heads", ev.Folds), pr.Done, pr.Total, pr.Rate(), "epochs/s", pr.Remaining(), pr.Done == pr.Total)
	case train.FineTuneStopped:
		if ev.Again {
			bar.line("fine-tuning at learning rate %g became unstable after epoch %d (the loss is no longer a finite number): starting it again from the head at %g", ev.LearningRate, ev.Epoch, ev.LearningRate/10)
		} else {
			bar.line("fine-tuning at learning rate %g became unstable after epoch %d and was stopped; the model keeps its best epoch (a lower --fine-tune-lr avoids this)", ev.LearningRate, ev.Epoch)
		}
	case train.Warning:
		// A warning with a path left a photo out; one without is a note
		// on the run as a whole (the folder's balance, a continued
		// model's head), which skips nothing.
		if ev.Path == "" {
			bar.line("note: %s", ev.Message)
			break
		}
		p.warnings++
		if p.warnings <= 20 {
			bar.line("skipped: %s", ev.Message)
		} else if p.warnings == 21 {
			bar.line("(more skipped files not shown)")
		}
	}
}

// summarize describes a finished training run for the output.
func summarize(path string, res *train.Result, runsOn app.RunsOn) trainSummary {
	m := res.Model
	s := trainSummary{
		Model: path, Labels: m.Labels, Backbone: m.Backbone.ID, Epochs: len(m.Training.Epochs),
		BestEpoch: m.Training.BestEpoch, StoppedEarly: res.StoppedEarly, Train: m.Training.TrainCount,
		Validation: m.Training.ValCount, Test: len(m.Training.Test), Skipped: res.Skipped,
		Seconds: m.Training.Duration, Evaluated: res.Evaluated, RunsOn: runsOn,
		Precision: "float",
	}
	if m.Backbone.Precision != "" {
		s.Precision = m.Backbone.Precision
	}
	if len(m.Training.Epochs) > 0 {
		best := m.Training.Epochs[m.Training.BestEpoch-1]
		s.TrainAccuracy = best.Accuracy
		if best.HasValidation {
			s.ValAccuracy = &best.ValAccuracy
		}
	}
	if r := res.Report; r != nil {
		s.Accuracy, s.N, s.K, s.TopK = &r.Accuracy, r.N, r.K, r.TopK
	}
	if th := m.Threshold; th != nil {
		// The curve is for drawing; the summary keeps the promise.
		t := *th
		t.Curve = nil
		s.Threshold = &t
		s.promise = app.Promise(th)
	}
	if m.Strangers != nil {
		judged, why := app.StrangersJudged(m)
		s.Strangers = &strangersSummary{Judged: judged, Reason: why}
		s.strangersNote = app.StrangersNote(m)
	}
	return s
}

// strangersSummary is the "not one of its kinds" part of the summary.
type strangersSummary struct {
	Judged bool   `json:"judged"`
	Reason string `json:"reason,omitempty"`
}

// write prints the summary as sentences.
func (s trainSummary) write(w io.Writer) error {
	fmt.Fprintf(w, "Saved %s: %d classes, best epoch %d of %d", s.Model, len(s.Labels), s.BestEpoch, s.Epochs)
	if s.StoppedEarly {
		fmt.Fprint(w, " (stopped early)")
	}
	fmt.Fprintf(w, ", %s.\n", time.Duration(s.Seconds*float64(time.Second)).Round(100*time.Millisecond))
	if s.Accuracy != nil {
		fmt.Fprintf(w, "%s accuracy: %.1f%% on %d photos (top-%d: %.1f%%)\n", strings.ToUpper(s.Evaluated[:1])+s.Evaluated[1:],
			100**s.Accuracy, s.N, s.K, 100*s.TopK)
	}
	if s.Skipped > 0 {
		fmt.Fprintf(w, "%d photos could not be decoded and were skipped.\n", s.Skipped)
	}
	if s.promise != "" {
		fmt.Fprintln(w, s.promise)
	}
	if s.strangersNote != "" {
		fmt.Fprintln(w, s.strangersNote)
	}
	if c := s.Comparison; c != nil {
		writeComparison(w, c)
	}
	if s.compareNote != "" {
		fmt.Fprintln(w, s.compareNote)
	}
	return nil
}

// writeComparison prints a retraining's before and after.
func writeComparison(w io.Writer, c *app.Comparison) {
	fmt.Fprintf(w, "Before → after, on the same %d %s photos: %.1f%% → %.1f%% (%+.1f points).\n", c.N, c.Evaluated, 100*c.Before, 100*c.After, 100*(c.After-c.Before))
	if c.LeftOut > 0 {
		fmt.Fprintf(w, "  %d new test photos left out: the model continued from was not tested on them and may have learnt from them.\n", c.LeftOut)
		for _, l := range c.LeftOutPhotos {
			fmt.Fprintf(w, "    %s: %s\n", l.Path, l.Why)
		}
	}
	for _, k := range c.Kinds {
		if k.Before != k.After {
			fmt.Fprintf(w, "  %s: %.0f%% → %.0f%% of %d photos found\n", k.Kind, 100*k.Before, 100*k.After, k.Photos)
		}
	}
	list := func(what string, paths []string) {
		if len(paths) == 0 {
			return
		}
		fmt.Fprintf(w, "  %s (%d):", what, len(paths))
		for _, p := range paths[:min(len(paths), 10)] {
			fmt.Fprintf(w, " %s", filepath.Base(p))
		}
		if len(paths) > 10 {
			fmt.Fprint(w, " …")
		}
		fmt.Fprintln(w)
	}
	list("fixed", c.Fixed)
	list("broken", c.Broken)
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
	// RunsOn is where the backbone really ran.
	RunsOn app.RunsOn `json:"runs_on"`
	// Precision is the arithmetic of the features the head learnt on:
	// "float" or "int8".
	Precision string `json:"precision"`
	// The evaluated photos' count, the k of top-k and its accuracy.
	N    int     `json:"n,omitempty"`
	K    int     `json:"k,omitempty"`
	TopK float64 `json:"top_k,omitempty"`
	// Threshold is the "not sure" threshold and its promise; promise says
	// it in words.
	Threshold *model.Threshold `json:"threshold,omitempty"`
	promise   string
	// Strangers says whether the model answers "not one of its kinds",
	// and why not; strangersNote says it in words.
	Strangers     *strangersSummary `json:"strangers,omitempty"`
	strangersNote string
	// Comparison (after --continue) compares the model continued from
	// with the new one on the same photos.
	Comparison  *app.Comparison `json:"comparison,omitempty"`
	compareNote string
}
