package app

import (
	"context"
	"time"

	"github.com/clasifica/clasifica/ml/features"
)

// ClassifyInBatches classifies the photos at paths batch at a time and
// hands each batch's predictions to got as soon as they are ready, with
// the index of the batch's first photo, so that a window can show the
// first photos of a large folder while the rest are classified. progress,
// which may be nil, reports on all the photos. got and progress are called
// from the calling goroutine.
func (c *Classifier) ClassifyInBatches(ctx context.Context, paths []string, batch int, got func(start int, preds []Prediction), progress func(features.Progress)) error {
	if batch <= 0 {
		batch = 64
	}
	start := time.Now()
	var before features.Progress
	for i := 0; i < len(paths); i += batch {
		end := min(i+batch, len(paths))
		var last features.Progress
		preds, err := c.Classify(ctx, paths[i:end], func(p features.Progress) {
			last = p
			if progress != nil {
				progress(features.Progress{
					Done:      before.Done + p.Done,
					Total:     len(paths),
					FromCache: before.FromCache + p.FromCache,
					Failed:    before.Failed + p.Failed,
					Elapsed:   time.Since(start),
				})
			}
		})
		if err != nil {
			return err
		}
		before.Done += end - i
		before.FromCache += last.FromCache
		before.Failed += last.Failed
		got(i, preds)
	}
	return nil
}
