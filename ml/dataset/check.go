package dataset

import (
	"context"
	"errors"
	"runtime"
	"slices"

	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/photo"
)

// CheckOptions control Check.
type CheckOptions struct {
	// Limits are the decoding limits; the zero value is photo's defaults,
	// which training uses too.
	Limits photo.Limits
	// Workers is the number of photos decoded at the same time; 0 or less
	// means one per CPU core, since decoding is computation, not waiting.
	Workers int
	// Progress, if not nil, is called from one goroutine at a time with the
	// number of photos checked so far, in increasing order, starting at 0.
	Progress func(done, total int)
}

// Check decodes every photo of d as training will, and returns a
// copy of d without the photos that fail, which join its Problems
// (ReasonUndecodable or ReasonTooLarge) and Skipped counts. Scan reads only
// headers, so a truncated or corrupt photo passes it; after Check, the
// problem list people read is the list training would skip. A class left
// with no photo is dropped too, as Scan drops it. d is not modified.
func Check(ctx context.Context, d *Dataset, opt CheckOptions) (*Dataset, error) {
	bad := make([]*hashed, len(d.Items))
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	err := forEach(ctx, len(d.Items), workers, opt.Progress, func() func(int) {
		return func(i int) {
			// The loader's own path (ml/features decodes with
			// LoadFile at the backbone's size): the same decoder
			// (libjpeg-turbo where built in), so that what fails
			// here is what training skips, at its speed.
			if _, err := photo.LoadFile(d.Items[i].Path, inception.Size, opt.Limits); err != nil {
				r := check(err)
				bad[i] = &r
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return without(d, bad), nil
}

// check turns a decoding error into a result; an unreadable file (deleted
// or locked since the scan) keeps the scan's reasons.
func check(err error) hashed {
	var pe *photo.Error
	if errors.As(err, &pe) && (pe.Kind == photo.Unreadable || pe.Kind == photo.Empty) {
		if pe.Kind == photo.Empty {
			return hashed{reason: ReasonEmpty}
		}
		return failed(pe.Err)
	}
	return undecodable(err)
}

// without returns a copy of d without the items that have a result in bad,
// relabelling when a class loses all its photos.
func without(d *Dataset, bad []*hashed) *Dataset {
	out := *d
	out.Problems = slices.Clone(d.Problems)
	out.Skipped = make(map[Reason]int, len(d.Skipped))
	for r, n := range d.Skipped {
		out.Skipped[r] = n
	}
	photos := make([]int, len(d.Classes))
	out.Items = make([]Item, 0, len(d.Items))
	for i, it := range d.Items {
		if r := bad[i]; r != nil {
			out.Problems = append(out.Problems, Problem{Path: it.Path, Reason: r.reason, Detail: r.detail})
			out.Skipped[r.reason]++
			continue
		}
		out.Items = append(out.Items, it)
		photos[it.Label]++
	}
	if !slices.Contains(photos, 0) {
		return &out
	}
	label := make([]int, len(d.Classes))
	out.Classes = nil
	for c, name := range d.Classes {
		label[c] = len(out.Classes)
		if photos[c] > 0 {
			out.Classes = append(out.Classes, name)
		}
	}
	for i := range out.Items {
		out.Items[i].Label = label[out.Items[i].Label]
	}
	return &out
}
