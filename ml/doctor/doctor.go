// Package doctor finds what is wrong in a labelled photo folder from the
// features Clasifica already caches: photos that are probably in the wrong
// folder (out-of-fold probabilities and confident learning), near-copies
// (perceptual hashes checked against features and file sizes) and
// strangers (photos unlike every class). It only reports; fixing is the
// caller's business.
package doctor

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/clasifica/clasifica/ml/dataset"
)

// Suspect is a photo that is probably in the wrong folder.
type Suspect struct {
	Path string
	// SHA256 is the photo's content hash in hex: decisions about the
	// photo are keyed by it, so that they survive a rename.
	SHA256 string
	// Label is the class the folder gives; Suggested the class the photo
	// most likely belongs to.
	Label, Suggested string
	// Score in [0, 1] says how sure the doctor is that Label is wrong:
	// the out-of-fold probability of Suggested minus that of Label,
	// clamped at 0. Suspects come most certain first.
	Score float64
}

// NearCopy is a pair of photos of the same shot: a resized, recompressed or
// slightly cropped copy.
type NearCopy struct {
	Paths  [2]string
	SHA256 [2]string
	// Similarity in [0, 1]: 1 for the same pixels.
	Similarity float64
	// Splits are the photos' splits ("train", "validation", "test"): a
	// pair across training and test inflates the test accuracy.
	Splits [2]string
	// Labels are the photos' classes: a pair in two classes is a
	// contradiction.
	Labels [2]string
}

// CrossSplit reports that the pair straddles training and a held-out split.
func (c NearCopy) CrossSplit() bool { return c.Splits[0] != c.Splits[1] }

// Contradiction reports that the pair's photos carry different labels.
func (c NearCopy) Contradiction() bool { return c.Labels[0] != c.Labels[1] }

// Stranger is a photo unlike every class: a document, a screenshot, a
// flower among pets.
type Stranger struct {
	Path, SHA256, Label string
	// Score in [0, 1]: how far the photo stands from the rest, 1 being the
	// farthest. Strangers come strangest first.
	Score float64
}

// Report is what the doctor found. An empty list means nothing was found,
// never that the check was skipped (see StrangersJudged).
type Report struct {
	Mislabeled     []Suspect
	NearDuplicates []NearCopy
	Outliers       []Stranger
	// StrangersJudged is false when the backbone cannot tell strangers
	// from ordinary photos (its features put unrelated photos among the
	// classes); Outliers is then empty and StrangersReason says why.
	StrangersJudged bool
	StrangersReason string
	// Warnings are things worth knowing before trusting the lists: too
	// few photos to check a class, unbalanced classes.
	Warnings []string
}

// Photo is one labelled photo as the doctor sees it.
type Photo struct {
	Path string
	// Hash is the SHA-256 of the file's content.
	Hash  [32]byte
	Label int
	Split dataset.Split
	// Size is the file's size in bytes (0 when unknown).
	Size int64
	// Print is the photo's perceptual fingerprint (see Fingerprint); a
	// zero Print (unknown) keeps the photo out of the near-copy search.
	Print Print
}

// Input is a folder's photos with their features.
type Input struct {
	// Classes names the labels.
	Classes []string
	Photos  []Photo
	// Features holds len(Photos) rows of Dim values: the backbone's
	// pooled features, in the order of Photos.
	Features []float32
	Dim      int
}

// Options tune Check; the zero value is usable.
type Options struct {
	// Folds is the number of folds for out-of-fold probabilities; 0
	// means 5.
	Folds int
	// Seed seeds the fold assignment.
	Seed uint64
	// Probes are feature vectors of photos known to be unrelated to any
	// folder (a page of text, a landscape): when the backbone does not
	// set them apart from the folder's photos, it cannot judge strangers
	// and Report.StrangersJudged is false.
	Probes [][]float32
	// NoStrangers, when not empty, says why the backbone cannot judge
	// strangers (known from the backbone itself): no outliers are listed
	// and Report.StrangersReason says this.
	NoStrangers string
	// Progress, if not nil, gets the stage being worked on ("suspects",
	// "near-copies", "strangers") and how far it is.
	Progress func(stage string, done, total int)
}

// FromDataset returns the doctor's input for d's photos (every split) and
// their features: rows of dim values in the order of d.Items; prints, if
// not nil, are the photos' fingerprints in the same order.
func FromDataset(d *dataset.Dataset, feats []float32, dim int, prints []Print) (Input, error) {
	if dim <= 0 || len(feats) != len(d.Items)*dim {
		return Input{}, fmt.Errorf("doctor: %d features for %d photos of %d values", len(feats), len(d.Items), dim)
	}
	if prints != nil && len(prints) != len(d.Items) {
		return Input{}, fmt.Errorf("doctor: %d fingerprints for %d photos", len(prints), len(d.Items))
	}
	in := Input{Classes: d.Classes, Features: feats, Dim: dim, Photos: make([]Photo, len(d.Items))}
	for i, it := range d.Items {
		p := Photo{Path: it.Path, Hash: it.Hash, Label: it.Label, Split: it.Split, Size: it.Size}
		if prints != nil {
			p.Print = prints[i]
		}
		in.Photos[i] = p
	}
	return in, nil
}

// Check looks for wrong labels, near-copies and strangers among in's
// photos. It returns ctx.Err() when ctx is cancelled.
func Check(ctx context.Context, in Input, opt Options) (Report, error) {
	if err := in.validate(); err != nil {
		return Report{}, err
	}
	return Report{}, errors.New("doctor: not implemented yet")
}

func (in Input) validate() error {
	if in.Dim <= 0 || len(in.Features) != len(in.Photos)*in.Dim {
		return fmt.Errorf("doctor: %d features for %d photos of %d values", len(in.Features), len(in.Photos), in.Dim)
	}
	for _, p := range in.Photos {
		if p.Label < 0 || p.Label >= len(in.Classes) {
			return fmt.Errorf("doctor: %s: label %d out of %d classes", p.Path, p.Label, len(in.Classes))
		}
	}
	return nil
}

func hexHash(h [32]byte) string { return hex.EncodeToString(h[:]) }
