package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/decisions"
	"github.com/clasifica/clasifica/ml/doctor"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/train"
)

// printCollector fingerprints the photos the feature extraction decodes
// (features.Extractor.Decoded), so that neither training nor the label
// check decodes a photo a second time for its print. Prints already kept
// in the data folder are not computed again.
type printCollector struct {
	mu   sync.Mutex // guards kept and made
	kept *doctor.Prints
	made map[[32]byte]doctor.Print
}

// newPrintCollector opens the fingerprints kept in the data folder (none
// when there is no data folder: then they are computed each time).
func (a *App) newPrintCollector() (*printCollector, error) {
	file := a.Dirs.Fingerprints()
	if a.Dirs.Data == "" {
		file = ""
	}
	kept, err := doctor.OpenPrints(file)
	if err != nil {
		return nil, err
	}
	return &printCollector{kept: kept, made: map[[32]byte]doctor.Print{}}, nil
}

// decoded is the extractor's hook: it runs on the decoding goroutines.
func (c *printCollector) decoded(it features.Item, p *photo.RGB) {
	if it.Hash == ([32]byte{}) {
		return
	}
	// Under the lock: a decoder may still be finishing a photo when a
	// cancelled extraction has returned and keepMade writes to kept.
	c.mu.Lock()
	_, known := c.kept.Get(it.Hash)
	_, done := c.made[it.Hash]
	c.mu.Unlock()
	if known || done {
		return // kept from before, or another view already fingerprinted
	}
	pr := doctor.Fingerprint(p)
	c.mu.Lock()
	c.made[it.Hash] = pr
	c.mu.Unlock()
}

// hook returns x with the collector fingerprinting what it decodes.
func (c *printCollector) hook(x *features.Extractor) *features.Extractor {
	x.Decoded = c.decoded
	return x
}

// keepMade moves the prints made during the extraction into the store.
func (c *printCollector) keepMade() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, pr := range c.made {
		c.kept.Put(h, pr)
	}
	clear(c.made)
}

// save keeps what the extraction fingerprinted even when the job stopped
// before using it (cancelled, failed): the prints do not depend on how
// the job ended. An error only means they are computed again next time.
func (c *printCollector) save() error {
	c.keepMade()
	return c.kept.Save()
}

// nearCopies finds the near-copy pairs among d's photos with the prints
// the extraction made (photos whose features came from the cache, and
// that were never fingerprinted, are decoded for it). The training photos
// a scan already left out for a recorded near-copy are searched too, so
// that recording the pairs found keeps their pairs.
func (a *App) nearCopies(ctx context.Context, d *dataset.Dataset, c *printCollector, decoding func(done, total int)) ([]doctor.NearCopy, error) {
	items := d.Items
	for _, dec := range d.Decided {
		if i := slices.Index(d.Classes, dec.Folder); dec.NearCopy && i >= 0 {
			items = append(slices.Clip(items), dataset.Item{Path: dec.Path, Hash: dec.Hash, Label: i, Split: dataset.Train})
		}
	}
	prints, err := a.fingerprints(ctx, items, c, decoding)
	if err != nil {
		return nil, err
	}
	photos := make([]doctor.Photo, len(items))
	for i, it := range items {
		photos[i] = doctor.Photo{Path: it.Path, Hash: it.Hash, Label: it.Label, Split: it.Split, Size: it.Size, Print: prints[i]}
	}
	return doctor.NearCopies(ctx, d.Classes, photos, nil)
}

// regroup is training's Regroup step (train.Job.Regroup): once the
// extraction has fingerprinted the photos, the near-copy pairs are found
// and recorded, and d divided again so that no pair straddles training and
// a held-out split (the held-out photo stays; its copy joins it where
// Clasifica splits, and is left out of training where the folder gives the
// split or the copy was forced into training, as corrections are).
// It returns nil when the division stays as it was. The training photos
// left out for their copies are named in a note (a train.Warning without
// a path), and a changed division is sent as a Scanned event.
func (a *App) regroup(ctx context.Context, d *dataset.Dataset, c *printCollector, emit func(Event)) (*dataset.Dataset, error) {
	// Photos never decoded with a print (features cached by an older
	// version) are read once more: that is reading photos, and said so.
	clock := progress.Start()
	near, err := a.nearCopies(ctx, d, c, func(done, total int) { emit(Scanning{clock.At(done, total)}) })
	if err != nil {
		return nil, err
	}
	pairs := make([][2][32]byte, 0, len(near))
	for _, p := range near {
		var h [2][32]byte
		for k := range 2 {
			if h[k], err = decisions.ParseHash(p.SHA256[k]); err != nil {
				return nil, fmt.Errorf("near-copy %s: %w", p.Paths[k], err)
			}
		}
		pairs = append(pairs, h)
	}
	if a.Dirs.Data != "" {
		if _, err := a.RecordNearCopies(d.Root, near); err != nil {
			return nil, fmt.Errorf("keep the near-copies of %s: %w", d.Root, err)
		}
		// The division follows every pair recorded, as the next scan's
		// will, not only those found now.
		s, err := a.LoadDecisions(d.Root)
		if err != nil {
			return nil, err
		}
		pairs = s.NearCopies()
	}
	out := d
	if d.CanResplit() {
		if out, err = d.WithNearCopies(pairs); err != nil {
			return nil, err
		}
	}
	if n := countNearCopies(out); n > 0 {
		// A note, not a per-photo warning: the photo is fine, and people
		// read warnings with a path as photos that could not be read.
		var names []string
		for _, dec := range out.Decided {
			if dec.NearCopy && len(names) < maxNearCopyNames {
				names = append(names, dec.Path+" ("+strings.TrimPrefix(dec.Note, "left out of training: ")+")")
			}
		}
		more := ""
		if n > len(names) {
			more = fmt.Sprintf(", and %d more (the Data screen's decisions list has them all)", n-len(names))
		}
		emit(train.Warning{Message: fmt.Sprintf("%d training %s left out because a near-copy of each is a validation or test photo, which stays one, and the folder gives the split or the photo was put in training (a correction): %s%s.",
			n, plural(n, "photo was", "photos were"), strings.Join(names, "; "), more)})
	}
	if sameDivision(d, out) {
		return nil, nil
	}
	if moved := movedTogether(d, out); moved > 0 {
		emit(train.Warning{Message: fmt.Sprintf("%d near-copies (the same shot resized, recompressed or cropped) were put in the split of their copy, so that no photo is tested against its own copy", moved)})
	}
	emit(Scanned{Dataset: out})
	return out, nil
}

// maxNearCopyNames bounds the photos a training note names as left out
// for a near-copy; the Data screen's decisions list has them all.
const maxNearCopyNames = 5

// countNearCopies counts the training photos d leaves out for a
// near-copy.
func countNearCopies(d *dataset.Dataset) int {
	n := 0
	for _, dec := range d.Decided {
		if dec.NearCopy {
			n++
		}
	}
	return n
}

// plural names n things.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sameDivision reports that two divisions of one folder put the same
// photos in the same splits.
func sameDivision(a, b *dataset.Dataset) bool {
	if len(a.Items) != len(b.Items) {
		return false
	}
	split := make(map[string]dataset.Split, len(a.Items))
	for _, it := range a.Items {
		split[it.Path] = it.Split
	}
	for _, it := range b.Items {
		if s, ok := split[it.Path]; !ok || s != it.Split {
			return false
		}
	}
	return true
}

// movedTogether counts the photos whose split changed from a to b.
func movedTogether(a, b *dataset.Dataset) int {
	split := make(map[string]dataset.Split, len(a.Items))
	for _, it := range a.Items {
		split[it.Path] = it.Split
	}
	n := 0
	for _, it := range b.Items {
		if s, ok := split[it.Path]; ok && s != it.Split {
			n++
		}
	}
	return n
}
