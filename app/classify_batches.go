package app

import (
	"context"
	"slices"

	"github.com/clasifica/clasifica/ml/features"
)

// ClassifyInBatches classifies the photos at paths and hands their
// predictions to got batch photos at a time (the last batch may be
// smaller), in order, as soon as they are ready, with the index of the
// batch's first photo, so that a window can show the first photos of a
// large folder while the rest are classified. The photos go through one
// extraction, whose decoders keep running while got works: chunking the
// paths would stop them at each chunk. progress, which may be nil,
// reports on all the photos. got and progress are called from the calling
// goroutine.
func (c *Classifier) ClassifyInBatches(ctx context.Context, paths []string, batch int, got func(start int, preds []Prediction), progress func(features.Progress)) error {
	if batch <= 0 {
		batch = 64
	}
	items := make([]features.Item, len(paths))
	for i, p := range paths {
		items[i] = features.Item{Path: p}
	}
	var ready []Prediction // predicted, not handed yet
	start := 0
	hand := func(all bool) {
		// A batch's receiver may cancel: the batches ready then are not
		// handed.
		for ctx.Err() == nil && (len(ready) >= batch || (all && len(ready) > 0)) {
			k := min(batch, len(ready))
			got(start, slices.Clone(ready[:k]))
			start += k
			ready = ready[k:]
		}
	}
	_, err := c.Engine.Extractor(false).ExtractEach(ctx, items, progress, func(res *features.Result, from, to int) error {
		preds, err := c.predictions(ctx, items, res, from, to)
		if err != nil {
			return err
		}
		ready = append(ready, preds...)
		hand(false)
		// Stops the extraction when a receiver cancelled.
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	hand(true)
	return ctx.Err()
}
