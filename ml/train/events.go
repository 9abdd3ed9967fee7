package train

import (
	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/internal/sealed"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/eval"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/model"
)

// Event is something that happened during a training run. The concrete
// types are PhaseStarted, Extraction, EpochFinished, Calibration, Warning,
// FineTuneStopped, Finished, Failed and Cancelled. Run emits them in order
// from its own goroutine; the CLI prints them, the desktop app draws them.
// Package app's Event holds these and its own events of a training job
// (the scan of the folder before the run): the marking method's argument
// is internal to this module, so no code outside it adds event types.
type Event interface{ JobEvent(sealed.Token) }

// Phase is a stage of a training run.
type Phase string

// The phases of a run, in order.
const (
	Extracting Phase = "extracting features"
	// Caching takes Extracting's place when the run fine-tunes (or
	// continues a fine-tuned model): one pass through the backbone gives
	// every photo not yet in the cache both its features and the mixed8
	// activations that fine-tuning reads.
	Caching  Phase = "caching activations"
	Training Phase = "training"
	// FineTuning is the second stage: the top inception blocks train with
	// the head. Its epochs continue the numbering of Training's and have
	// Stage 2, so a chart continues across both with a marker here.
	FineTuning Phase = "fine-tuning"
	Evaluating Phase = "evaluating"
	// Calibrating trains the out-of-fold heads that choose a head-only
	// model's "not sure" threshold (Calibration events follow); runs
	// without them go from Evaluating to the end.
	Calibrating Phase = "choosing the not-sure threshold"
)

// PhaseStarted reports the start of a phase.
type PhaseStarted struct {
	Phase Phase
}

// Extraction reports feature extraction progress.
type Extraction struct {
	features.Progress
}

// EpochFinished reports an epoch's metrics. Its Stage is 1 while the head
// trains alone and 2 while fine-tuning.
type EpochFinished struct {
	model.Epoch
	// Epochs is the number of epochs the run will do at most, both stages
	// together.
	Epochs int
	// Best reports that this epoch has the lowest validation loss so far:
	// its weights are the ones the model keeps.
	Best bool
}

// Calibration reports the out-of-fold heads' progress: Done counts the
// epochs trained of all folds' Total; Fold (from 1, 0 before the first
// epoch) of Folds is the head training now.
type Calibration struct {
	progress.Progress
	Fold, Folds int
}

// Warning reports a problem that did not stop the run, such as a photo that
// could not be read (Path is then set).
type Warning struct {
	Path    string
	Message string
}

// FineTuneStopped reports that fine-tuning at LearningRate became unstable
// (its loss no longer a finite number) and was stopped after the run's
// epoch Epoch. With Again, none of its epochs was kept and it starts again
// from the head at a tenth of the learning rate; otherwise the run goes on
// with its best epoch, from either stage.
type FineTuneStopped struct {
	Epoch        int
	LearningRate float64
	Again        bool
}

// Finished reports a successful run.
type Finished struct {
	Result *Result
}

// Failed reports a run that stopped on an error.
type Failed struct {
	Err error
}

// Cancelled reports a run stopped by its context.
type Cancelled struct{}

// JobEvent marks PhaseStarted as an Event.
func (PhaseStarted) JobEvent(sealed.Token) {}

// JobEvent marks Extraction as an Event.
func (Extraction) JobEvent(sealed.Token) {}

// JobEvent marks EpochFinished as an Event.
func (EpochFinished) JobEvent(sealed.Token) {}

// JobEvent marks Calibration as an Event.
func (Calibration) JobEvent(sealed.Token) {}

// JobEvent marks Warning as an Event.
func (Warning) JobEvent(sealed.Token) {}

// JobEvent marks FineTuneStopped as an Event.
func (FineTuneStopped) JobEvent(sealed.Token) {}

// JobEvent marks Finished as an Event.
func (Finished) JobEvent(sealed.Token) {}

// JobEvent marks Failed as an Event.
func (Failed) JobEvent(sealed.Token) {}

// JobEvent marks Cancelled as an Event.
func (Cancelled) JobEvent(sealed.Token) {}

// Result is what a successful run produces.
type Result struct {
	Model *model.Model
	// Data is the division of the photos the model was trained and
	// tested on: the job's, or the one Regroup returned.
	Data *dataset.Dataset
	// Evaluated names the split the report is on: "test" when the dataset
	// has a test split, otherwise "validation"; empty when there is
	// neither, and Report is then nil.
	Evaluated string
	Report    *eval.Report
	// Samples lists the evaluated photos with their predictions, in the
	// report's sample order.
	Samples []Prediction
	// StoppedEarly reports that early stopping ended training before the
	// last epoch.
	StoppedEarly bool
	// FineTuned reports that the model keeps fine-tuned blocks: fine-tuning
	// ran and improved on the head's best validation loss.
	FineTuned bool
	// Skipped counts photos left out because they could not be read.
	Skipped int
	// Validation lists the validation photos with the final model's
	// predictions (the same as Samples when Evaluated is "validation").
	Validation []Prediction
	// Calibration lists the predictions the "not sure" threshold was
	// chosen on (the model's Threshold.Basis says which): out-of-fold
	// predictions of every training and validation photo, the final
	// model's of the validation half set aside, or Validation.
	Calibration []Prediction
}

// Prediction is a photo's true class and predicted probabilities.
type Prediction struct {
	Path  string
	Truth int
	Probs []float32
}
