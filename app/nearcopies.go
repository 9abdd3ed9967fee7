package app

import (
	"context"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/clasifica/clasifica/ml/dataset"
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
// that were never fingerprinted, are decoded for it), and records them in
// the folder's decisions so that every later scan keeps each pair on one
// side of the training/test divide.
func (a *App) nearCopies(ctx context.Context, d *dataset.Dataset, c *printCollector) ([]doctor.NearCopy, error) {
	prints, err := a.fingerprints(ctx, d, c, func(int, int) {})
	if err != nil {
		return nil, err
	}
	photos := make([]doctor.Photo, len(d.Items))
	for i, it := range d.Items {
		photos[i] = doctor.Photo{Path: it.Path, Hash: it.Hash, Label: it.Label, Split: it.Split, Size: it.Size, Print: prints[i]}
	}
	return doctor.NearCopies(ctx, d.Classes, photos, nil)
}

// regroup is training's Regroup step (train.Job.Regroup): once the
// extraction has fingerprinted the photos, the near-copy pairs are found
// and recorded, and d divided again so that no pair straddles training and
// a held-out split (the smaller content hash's split where Clasifica
// splits; the training copy left out where the folder gives the split).
// It returns nil when the division stays as it was. Each training photo
// left out for its copy is reported as a warning, and a changed division
// as a Scanned event.
func (a *App) regroup(ctx context.Context, d *dataset.Dataset, c *printCollector, emit func(Event)) (*dataset.Dataset, error) {
	near, err := a.nearCopies(ctx, d, c)
	if err != nil {
		return nil, err
	}
	out := d
	if a.Dirs.Data != "" {
		if _, err := a.RecordNearCopies(d.Root, near); err != nil {
			return nil, fmt.Errorf("keep the near-copies of %s: %w", d.Root, err)
		}
	}
	if d.CanResplit() {
		pairs := make([][2][32]byte, 0, len(near))
		for _, p := range near {
			var h [2][32]byte
			for k := range 2 {
				b, err := hex.DecodeString(p.SHA256[k])
				if err != nil || len(b) != 32 {
					return nil, fmt.Errorf("near-copy %s: bad hash %q", p.Paths[k], p.SHA256[k])
				}
				copy(h[k][:], b)
			}
			pairs = append(pairs, h)
		}
		if out, err = d.WithNearCopies(pairs); err != nil {
			return nil, err
		}
	}
	for _, dec := range out.Decided {
		if dec.NearCopy {
			emit(train.Warning{Path: dec.Path, Message: fmt.Sprintf("%s: %s (the folder gives the split, so Clasifica does not move photos across it)", dec.Path, dec.Note)})
		}
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
