package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/internal/sealed"
	"github.com/clasifica/clasifica/internal/version"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

// TrainRequest describes a training job.
type TrainRequest struct {
	// Data is the photo folder; Dataset, if set, is its scan (the desktop
	// app scans before training to show the data) and Data is ignored.
	// A Dataset scanned with other split shares than DataOptions is
	// divided again in memory (see Resplit), one with another granularity
	// read again (see NeedsRescan); either way the dataset trained on is
	// sent as a Scanned event.
	Data    string
	Dataset *dataset.Dataset
	// DataOptions control the scan and split.
	DataOptions dataset.Options
	Options     train.Options
	// Continue, if set, is a model file to continue training from; Base,
	// if set, the model itself (the desktop app's current model).
	Continue string
	Base     *model.Model
	// Out, if set, is where the model is written (atomically) when
	// training succeeds; a failed or cancelled run leaves it untouched.
	Out string
	// ReleaseEngine says that the caller runs nothing on the engine after
	// Train: its session is closed when fine-tuning starts, so that the
	// fine-tuning steps have its memory. Closing the engine afterwards is
	// still allowed.
	ReleaseEngine bool
}

// Event is something that happened during a training job: Scanning and
// Scanned while the folder is read, then the run's own events, ml/train's
// (train.PhaseStarted to train.Cancelled). Events arrive in order, from
// the job's goroutine. The marking method's argument is internal to this
// module, so the set is closed: a type switch over these types is complete.
type Event interface{ JobEvent(sealed.Token) }

// Scanning reports how many of the folder's files have been read.
type Scanning struct{ progress.Progress }

// Scanned reports the scan of the folder the job trains on, when Train
// made a new one for it.
type Scanned struct {
	Dataset *dataset.Dataset
}

// JobEvent marks Scanning as an Event.
func (Scanning) JobEvent(sealed.Token) {}

// JobEvent marks Scanned as an Event.
func (Scanned) JobEvent(sealed.Token) {}

// Train runs a training job on eng, sending events to emit. It returns the
// result; the model is also written to req.Out when that is set.
func (a *App) Train(ctx context.Context, eng *Engine, req TrainRequest, emit func(Event)) (*train.Result, error) {
	if emit == nil {
		emit = func(Event) {}
	}
	// Fine-tuning reads the photos' activations back from the feature
	// cache: it must not be cleared under the run.
	inUse, err := a.useFeatureCache(ctx)
	if err != nil {
		return nil, err
	}
	defer inUse.Unlock()
	d, changed, err := a.prepare(ctx, req.Dataset, req.Data, req.DataOptions, func(p progress.Progress) { emit(Scanning{p}) })
	if err != nil {
		return nil, err
	}
	if changed {
		emit(Scanned{Dataset: d})
	}
	for _, p := range d.Problems {
		emit(train.Warning{Path: p.Path, Message: p.String()})
	}
	// Tiny classes, imbalance and duplicates do not stop training, but
	// people should hear of them before trusting the result.
	for _, w := range d.Summary().Warnings {
		emit(train.Warning{Message: w.Message})
	}
	// The extraction's decode fingerprints the photos; once it is done the
	// near-copy pairs are found and kept on one side of the training/test
	// divide, with the features already extracted.
	prints, err := a.newPrintCollector()
	if err != nil {
		return nil, err
	}
	job := train.Job{Data: d, Extractor: prints.hook(eng.Extractor(true)), Backbone: eng.Ref(), Options: req.Options, Engine: eng.Engine,
		Regroup: func(ctx context.Context) (*dataset.Dataset, error) { return a.regroup(ctx, d, prints, emit) }}
	defer prints.save() // an error only costs a decode next time
	if req.ReleaseEngine {
		job.ReleaseExtractor = func() { eng.Session.Close() }
	}
	job.Options.Validation = req.DataOptions.Validation
	job.Options.Test = req.DataOptions.Test
	if req.Continue != "" {
		base, err := OpenModel(req.Continue)
		if err != nil {
			return nil, err
		}
		job.Base = base
	}
	if req.Base != nil {
		job.Base = req.Base
	}
	if job.Options.FineTune > 0 || (job.Base != nil && len(job.Base.Top) > 0) {
		w, err := a.Backbones.Weights(eng.Backbone)
		if err != nil {
			return nil, err
		}
		job.Weights = w
	}
	res, err := train.Run(ctx, job, func(e train.Event) { emit(e) })
	if err != nil {
		return nil, err
	}
	if err := a.settleTraining(ctx, eng, res, job.Options.TopK); err != nil {
		return nil, err
	}
	a.recordFineTune(eng.Device(), res.Model.Training)
	recordRun(res, job.Base)
	res.Model.Producer = version.String()
	if req.Out != "" {
		if err := SaveModel(res.Model, req.Out); err != nil {
			return res, err
		}
	}
	return res, nil
}

// SaveModel writes m to path atomically, adding the model extension when
// path has none.
func SaveModel(m *model.Model, path string) error {
	path = ModelPath(path)
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("save model: %w", err)
		}
	}
	return m.WriteFile(path)
}

// ModelPath returns path with the model extension added when it has none.
func ModelPath(path string) string {
	if filepath.Ext(path) == "" {
		return path + model.Ext
	}
	return path
}

// IsCancel reports whether err is a cancellation.
func IsCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// PlainError returns err's message for people: its first line, without
// the chain of package prefixes Go errors accumulate.
func PlainError(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
