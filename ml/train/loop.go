package train

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/clasifica/clasifica/ml/model"
)

// ErrStop, returned by a Loop's Epoch function, ends the loop without
// recording that epoch, as a normal end (the loop's Run returns nil): a
// stage that can no longer go on (fine-tuning whose loss stopped being a
// finite number) keeps what its earlier epochs achieved.
var ErrStop = errors.New("train: stop the loop")

// Loop is the one epoch loop of every training stage (the head, the
// fine-tuned blocks, and any later retraining): it runs Epoch up to Epochs
// times and calls its hooks around the epochs, as gomlx's train.Loop does
// around steps. What a stage adds to the loop (early stopping, keeping
// the best epoch, progress events) plugs in as a Hook; a stage itself is
// only the Epoch function.
type Loop struct {
	// Epoch trains one pass over the training samples and validates the
	// result: it fills the record's statistics (Loss, Accuracy and, with a
	// validation set, ValLoss, ValAccuracy and HasValidation). The loop
	// sets the record's Epoch, Stage and Seconds. Returning ErrStop ends
	// the loop; another error ends it with that error.
	Epoch func(ctx context.Context) (model.Epoch, error)
	// Epochs is the most epochs the loop runs.
	Epochs int
	// Stage is recorded in each epoch (1: the head, 2: fine-tuning).
	Stage int
	// History collects the epochs; the numbering continues from its length,
	// so that a second stage continues the first's chart.
	History *[]model.Epoch

	hooks []Hook
}

// Hook is called by a Loop at its start, after each epoch and at its end,
// in the order the hooks were added; nil functions are skipped.
type Hook struct {
	// OnStart is called before the first epoch.
	OnStart func(ctx context.Context) error
	// OnEpoch is called after each epoch, with its record, which is in
	// History already; stop ends the loop after it (the later hooks still
	// see the epoch).
	OnEpoch func(e *model.Epoch) (stop bool, err error)
	// OnEnd is called once the loop ends, whatever the reason, with the
	// error it ends on (nil for a normal end); it returns the error Run
	// returns, so a hook can add its own.
	OnEnd func(err error) error
}

// Add appends hooks, called after those added before.
func (l *Loop) Add(h ...Hook) { l.hooks = append(l.hooks, h...) }

// Run runs the loop. It returns the error an epoch or a hook ended it
// on, or ctx.Err() when it was cancelled.
func (l *Loop) Run(ctx context.Context) (err error) {
	if l.History == nil {
		l.History = new([]model.Epoch)
	}
	defer func() {
		for _, h := range l.hooks {
			if h.OnEnd != nil {
				err = h.OnEnd(err)
			}
		}
	}()
	for _, h := range l.hooks {
		if h.OnStart != nil {
			if err := h.OnStart(ctx); err != nil {
				return err
			}
		}
	}
	for k := 1; k <= l.Epochs; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		t0 := time.Now()
		e, err := l.Epoch(ctx)
		if errors.Is(err, ErrStop) {
			return nil
		}
		if err != nil {
			return err
		}
		e.Epoch, e.Stage = len(*l.History)+1, l.Stage
		e.Seconds = time.Since(t0).Seconds()
		*l.History = append(*l.History, e)
		rec := &(*l.History)[len(*l.History)-1]
		stop := false
		for _, h := range l.hooks {
			if h.OnEpoch == nil {
				continue
			}
			s, err := h.OnEpoch(rec)
			if err != nil {
				return err
			}
			stop = stop || s
		}
		if stop {
			return nil
		}
	}
	return nil
}

// BestEpoch keeps the best epoch of one or more loops (the stages of a
// run: fine-tuned blocks are kept only when they beat the head alone).
// Its Hook calls keep after each epoch that improves on the best so far
// and restore at the loop's end when an epoch of that loop was kept.
type BestEpoch struct {
	// Epoch is the best epoch's number, 0 before the first.
	Epoch int
	// Score is the best epoch's validation score (lower is better; see
	// score), +Inf before the first.
	Score float64
	// Improved says whether the last epoch seen was the best so far.
	Improved bool
}

// NewBestEpoch returns a BestEpoch that has seen no epoch.
func NewBestEpoch() *BestEpoch { return &BestEpoch{Score: math.Inf(1)} }

// score is what BestEpoch minimises: the validation loss. Without a
// validation set there is nothing to choose on and the last epoch is the
// best one.
func score(e *model.Epoch) float64 { return e.ValLoss }

// Hook returns the hook that watches a loop: keep saves the current
// weights as the best, restore brings them back at the end of a loop in
// which keep was called.
func (b *BestEpoch) Hook(keep, restore func() error) Hook {
	kept := false
	return Hook{
		OnEpoch: func(e *model.Epoch) (bool, error) {
			s := score(e)
			b.Improved = !e.HasValidation || s < b.Score
			if !b.Improved {
				return false, nil
			}
			b.Epoch, b.Score, kept = e.Epoch, s, true
			return false, keep()
		},
		OnEnd: func(err error) error {
			if err != nil || !kept || restore == nil {
				return err
			}
			return restore()
		},
	}
}

// EarlyStopping stops a loop after Patience epochs in a row that did not
// improve on Best; 0 turns it off.
type EarlyStopping struct {
	Patience int
	Best     *BestEpoch
	// Stopped says that the hook stopped the loop before its last epoch.
	Stopped bool
	since   int
}

// Hook returns the hook that stops l; it must come after Best's.
func (s *EarlyStopping) Hook(l *Loop) Hook {
	first := 0
	return Hook{
		OnStart: func(context.Context) error {
			s.since, s.Stopped, first = 0, false, len(*l.History)
			return nil
		},
		OnEpoch: func(e *model.Epoch) (bool, error) {
			if s.Best.Improved {
				s.since = 0
			} else {
				s.since++
			}
			if s.Patience > 0 && s.since >= s.Patience {
				s.Stopped = e.Epoch-first < l.Epochs
				return true, nil
			}
			return false, nil
		},
	}
}
