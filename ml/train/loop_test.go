package train

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/clasifica/clasifica/ml/model"
)

// scripted returns a Loop epoch function that reports the given validation
// losses in turn, and after them the error end (if any).
func scripted(losses []float64, end error) func(context.Context) (model.Epoch, error) {
	k := 0
	return func(context.Context) (model.Epoch, error) {
		if k == len(losses) {
			return model.Epoch{}, end
		}
		k++
		return model.Epoch{Loss: 1, ValLoss: losses[k-1], HasValidation: true}, nil
	}
}

func TestLoop(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name     string
		losses   []float64
		end      error
		epochs   int
		patience int
		// want: epochs run, best epoch, stopped early, Run's error
		run, best int
		stopped   bool
		err       error
	}{
		{"improves every epoch", []float64{3, 2, 1}, nil, 3, 2, 3, 3, false, nil},
		{"stops after patience", []float64{3, 1, 2, 2, 2, 0.5}, nil, 6, 3, 5, 2, true, nil},
		{"patience reached at the last epoch is no early stop", []float64{1, 2, 2}, nil, 3, 2, 3, 1, false, nil},
		{"no patience runs every epoch", []float64{1, 2, 2, 2}, nil, 4, 0, 4, 1, false, nil},
		{"ErrStop ends normally, keeping the best", []float64{2, 1}, ErrStop, 5, 0, 2, 2, false, nil},
		{"an epoch's error ends the loop with it", []float64{2}, errBoom, 5, 0, 1, 1, false, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var history []model.Epoch
			best := NewBestEpoch()
			var kept, restored []int
			var ends []error
			l := &Loop{Epoch: scripted(tt.losses, tt.end), Epochs: tt.epochs, Stage: 1, History: &history}
			stop := &EarlyStopping{Patience: tt.patience, Best: best}
			var seen []int
			l.Add(
				best.Hook(func() error { kept = append(kept, len(history)); return nil }, func() error { restored = append(restored, best.Epoch); return nil }),
				stop.Hook(l),
				Hook{
					OnEpoch: func(e *model.Epoch) (bool, error) { seen = append(seen, e.Epoch); return false, nil },
					OnEnd:   func(err error) error { ends = append(ends, err); return err },
				},
			)
			err := l.Run(t.Context())
			if !errors.Is(err, tt.err) {
				t.Fatalf("Run: %v, want %v", err, tt.err)
			}
			if len(history) != tt.run || best.Epoch != tt.best || stop.Stopped != tt.stopped {
				t.Errorf("ran %d epochs, best %d, stopped early %v; want %d, %d, %v", len(history), best.Epoch, stop.Stopped, tt.run, tt.best, tt.stopped)
			}
			for i, e := range history {
				if e.Epoch != i+1 || e.Stage != 1 || e.Seconds < 0 {
					t.Errorf("epoch record %d: %+v", i, e)
				}
			}
			if want := history[len(history)-1].Epoch; len(seen) != len(history) || seen[len(seen)-1] != want {
				t.Errorf("hooks saw epochs %v, history has %d", seen, len(history))
			}
			if kept[len(kept)-1] != tt.best {
				t.Errorf("last kept epoch %d, best %d", kept[len(kept)-1], tt.best)
			}
			wantRestored := []int{tt.best}
			if tt.err != nil {
				wantRestored = nil // a failed stage restores nothing
			}
			if !slices.Equal(restored, wantRestored) {
				t.Errorf("restored %v, want %v", restored, wantRestored)
			}
			if len(ends) != 1 || !errors.Is(ends[0], tt.err) {
				t.Errorf("OnEnd called with %v, want once with %v", ends, tt.err)
			}
		})
	}
}

// TestLoopStages checks what the fine-tuning stage relies on: a second
// loop continues the first's numbering, is kept only when it beats the
// first stage's best, and restores nothing when it did not.
func TestLoopStages(t *testing.T) {
	for _, tt := range []struct {
		name     string
		second   []float64
		best     int
		restored bool
	}{
		{"second stage beats the first", []float64{1.5, 0.5, 0.7}, 5, true},
		{"second stage never beats the first", []float64{1.5, 1.2}, 2, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var history []model.Epoch
			best := NewBestEpoch()
			first := &Loop{Epoch: scripted([]float64{2, 1, 1.1}, nil), Epochs: 3, Stage: 1, History: &history}
			first.Add(best.Hook(func() error { return nil }, nil))
			if err := first.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			restored := false
			second := &Loop{Epoch: scripted(tt.second, nil), Epochs: len(tt.second), Stage: 2, History: &history}
			second.Add(best.Hook(func() error { return nil }, func() error { restored = true; return nil }))
			if err := second.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			if len(history) != 3+len(tt.second) || history[3].Epoch != 4 || history[3].Stage != 2 {
				t.Errorf("history %+v", history)
			}
			if best.Epoch != tt.best || restored != tt.restored {
				t.Errorf("best epoch %d, restored %v; want %d, %v", best.Epoch, restored, tt.best, tt.restored)
			}
		})
	}
}

func TestLoopCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	runs := 0
	l := &Loop{Epochs: 5, Epoch: func(context.Context) (model.Epoch, error) {
		runs++
		cancel()
		return model.Epoch{}, nil
	}}
	if err := l.Run(ctx); !errors.Is(err, context.Canceled) || runs != 1 {
		t.Errorf("Run after cancellation: %v after %d epochs, want context.Canceled after 1", err, runs)
	}
}
