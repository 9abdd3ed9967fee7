package app

import (
	"fmt"
	"time"

	"github.com/clasifica/clasifica/ml/model"
)

// fineTuneGuess is one fine-tuning epoch's time per photo (mixed9, mixed10
// and the head, validation included) on a CPU without a measurement of this
// computer: 2 cores of an AMD EPYC took 0.05–0.07 s; laptops vary by 2× or
// more either way. An accelerator is taken as 20 times faster, a guess.
const (
	fineTuneGuess      = 0.06
	acceleratorSpeedup = 20
)

// Estimate is how long some work should take.
type Estimate struct {
	Duration time.Duration
	// Measured says the estimate comes from this computer's own runs (of
	// the same work on the same device), not from a guess.
	Measured bool
}

// speeds keeps the training speeds measured on this computer, so that the
// estimates shown before a run come from earlier runs here.
type speeds = jsonCache[speed]

// speed is one measured rate.
type speed struct {
	// SecondsPerPhoto is one epoch's time per photo.
	SecondsPerPhoto float64   `json:"seconds_per_photo_epoch"`
	When            time.Time `json:"measured"`
}

func fineTuneKey(device string, blocks int) string {
	return fmt.Sprintf("fine-tune %d|%s", blocks, device)
}

// FineTuneEstimate is how much time fine-tuning blocks top blocks for
// epochs epochs adds to training on photos photos (the training and
// validation ones) on device (Engine.Device's description of where the
// image model runs). It comes from the last fine-tuning measured on that
// device, by a training run or by Bench, or else from a guess.
func (a *App) FineTuneEstimate(device string, blocks, photos, epochs int) Estimate {
	per, measured := fineTuneGuess, false
	if v, ok := a.speeds.get(fineTuneKey(device, blocks)); ok && v.SecondsPerPhoto > 0 {
		per, measured = v.SecondsPerPhoto, true
	} else if device != "" && device != "CPU" {
		per /= acceleratorSpeedup
	}
	sec := per * float64(photos) * float64(epochs)
	return Estimate{Duration: time.Duration(sec * float64(time.Second)), Measured: measured}
}

// recordFineTune keeps the fine-tuning speed of a training run that
// fine-tuned on device: its fine-tuning epochs' time per training and
// validation photo.
func (a *App) recordFineTune(device string, t *model.Training) {
	if t == nil {
		return
	}
	photos := t.TrainCount + t.ValCount
	var sec float64
	epochs := 0
	for _, e := range t.Epochs {
		if e.Stage == 2 && e.Seconds > 0 {
			sec += e.Seconds
			epochs++
		}
	}
	if epochs == 0 || photos == 0 || t.Options.FineTune == 0 {
		return
	}
	a.speeds.put(fineTuneKey(device, t.Options.FineTune), speed{SecondsPerPhoto: sec / float64(epochs) / float64(photos), When: time.Now()})
}
