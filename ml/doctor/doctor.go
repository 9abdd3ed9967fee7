// Package doctor finds what is wrong in a labelled photo folder from the
// features Clasifica already caches: photos that are probably in the wrong
// folder (out-of-fold probabilities and confident learning), near-copies
// (perceptual hashes checked against features and file sizes) and
// strangers (photos unlike every class). It only reports; fixing is the
// caller's business.
package doctor

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

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
	// 1 minus the out-of-fold probability of Label (cleanlab's
	// self-confidence ranking). Suspects come most certain first.
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
	// Score in [0, 1): how far the photo stands from every class, by
	// StrangeScore of its deviations from the nearest class (see Profile;
	// listed from StrangeDeviations, score 0.5). Strangers come strangest
	// first.
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
	// Probes are photos known to be unrelated to any folder (a page of
	// text, a screenshot), with their features: when the backbone does
	// not set them apart from the folder's classes (Profile.Judge), it
	// cannot judge strangers and Report.StrangersJudged is false.
	Probes []Probe
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
	progress := opt.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}
	var rep Report
	n := len(in.Photos)
	counts := make([]int, len(in.Classes))
	for _, p := range in.Photos {
		counts[p.Label]++
	}

	// Wrong labels: a class needs photos in several folds to be learnt
	// and judged; photos of smaller classes are neither suspected nor
	// suggested.
	small := make([]bool, len(in.Classes))
	var smallNames []string
	present := 0
	for c, k := range counts {
		if k > 0 {
			present++
		}
		if k > 0 && k < MinClassPhotos {
			small[c] = true
			smallNames = append(smallNames, in.Classes[c])
		}
	}
	if len(smallNames) > 0 {
		names := strings.Join(smallNames, ", ")
		if len(smallNames) > 5 {
			names = fmt.Sprintf("%d classes (%s and %d more)", len(smallNames), strings.Join(smallNames[:3], ", "), len(smallNames)-3)
		}
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: fewer than %d photos, too few to check their labels", names, MinClassPhotos))
	}
	if lo, hi := minMax(counts); lo > 0 && float64(hi) > dataset.ImbalanceRatio*float64(lo) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("The classes are unbalanced (%d to %d photos): suspects in the small classes are less certain", lo, hi))
	}
	if present-len(smallNames) >= 2 {
		labels := make([]int, n)
		for i, p := range in.Photos {
			labels[i] = p.Label
		}
		probs, err := OutOfFold(ctx, in.Features, in.Dim, labels, len(in.Classes), FoldOptions{Folds: opt.Folds, Seed: opt.Seed,
			Progress: func(done, total int) { progress("suspects", done, total) }})
		if err != nil {
			return Report{}, err
		}
		for i := range probs {
			for c := range small {
				if small[c] {
					probs[i][c] = 0 // never suggested
				}
			}
		}
		// A model that cannot tell the classes apart on photos it did
		// not see makes its own confusions look like wrong labels: a
		// clean folder would get a long list. Say so instead.
		if k := skill(probs, labels, small); k.corrected < MinSkill {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("The image model tells these classes apart too poorly to say which labels are wrong (it recognises %.0f%% of the photos it has not seen, where guessing gives %.0f%%)", 100*k.accuracy, 100*k.chance))
			probs = nil
		}
		for _, is := range confidentIssues(probs, labels, len(in.Classes), small) {
			p := in.Photos[is.row]
			rep.Mislabeled = append(rep.Mislabeled, Suspect{Path: p.Path, SHA256: hexHash(p.Hash),
				Label: in.Classes[p.Label], Suggested: in.Classes[is.suggested], Score: is.score})
		}
	}

	// Near-copies.
	near, err := NearCopies(ctx, in.Classes, in.Photos, func(done, total int) { progress("near-copies", done, total) })
	if err != nil {
		return Report{}, err
	}
	rep.NearDuplicates = near

	// Strangers: photos far from every class, by the same profile a
	// model keeps to answer "not one of its kinds".
	progress("strangers", 0, 1)
	rep.StrangersJudged, rep.StrangersReason = true, ""
	switch {
	case opt.NoStrangers != "":
		rep.StrangersJudged, rep.StrangersReason = false, opt.NoStrangers
	case n < minStrangePhotos:
		rep.StrangersJudged, rep.StrangersReason = false, fmt.Sprintf("%d photos are too few to tell which stand apart", n)
	default:
		labels := make([]int, n)
		for i, p := range in.Photos {
			labels[i] = p.Label
		}
		prof, err := NewProfile(in.Features, in.Dim, labels, len(in.Classes))
		if err != nil {
			return Report{}, err
		}
		j := prof.Judge(opt.Probes, in.Classes)
		rep.StrangersJudged, rep.StrangersReason = j.Judged, j.Reason
		if rep.StrangersJudged {
			for i := range n {
				if err := ctx.Err(); err != nil {
					return Report{}, err
				}
				if z, _ := prof.Deviations(in.Features[i*in.Dim : (i+1)*in.Dim]); z >= StrangeDeviations {
					p := in.Photos[i]
					rep.Outliers = append(rep.Outliers, Stranger{Path: p.Path, SHA256: hexHash(p.Hash), Label: in.Classes[p.Label], Score: StrangeScore(z)})
				}
			}
			slices.SortStableFunc(rep.Outliers, func(a, b Stranger) int { return cmp.Compare(b.Score, a.Score) })
		}
	}
	progress("strangers", 1, 1)
	return rep, nil
}

// MinSkill is the least chance-corrected balanced accuracy of the
// out-of-fold predictions at which wrong labels are listed: (accuracy −
// chance)/(1 − chance), accuracy being the mean of the classes' recalls
// and chance 1/classes. Measured on the clean sample folders with the
// offline test model: 0.5 for the pets as cats and dogs, 0.3 for the
// flowers, 0.16 for the 37 breeds; confident learning listed 20, 66 and
// 115 of their photos, nearly all the model's own confusions.
const MinSkill = 0.4

// skillScore is how well out-of-fold predictions tell the classes apart.
type skillScore struct{ accuracy, chance, corrected float64 }

func skill(probs [][]float64, labels []int, skip []bool) skillScore {
	classes := len(skip)
	hit := make([]float64, classes)
	count := make([]float64, classes)
	for i, l := range labels {
		if skip[l] {
			continue
		}
		count[l]++
		if argmax(probs[i]) == l {
			hit[l]++
		}
	}
	var s skillScore
	present := 0.0
	for c := range classes {
		if count[c] > 0 {
			s.accuracy += hit[c] / count[c]
			present++
		}
	}
	if present < 2 {
		return s
	}
	s.accuracy /= present
	s.chance = 1 / present
	s.corrected = (s.accuracy - s.chance) / (1 - s.chance)
	return s
}

// MinClassPhotos is the fewest photos a class needs for its labels to be
// checked: with 5 folds, fewer leave some folds without the class.
const MinClassPhotos = dataset.SmallClass

// NearCopies returns the pairs of photos whose fingerprints say they are
// the same shot (a resized, recompressed or slightly cropped copy),
// closest first, as Check reports them: pairs, never chained into groups,
// since look-alikes would chain. Photos with a zero Print are not
// compared. Training uses it alone, on the prints its extraction made,
// to keep each pair on one side of the training/test divide. progress
// may be nil.
func NearCopies(ctx context.Context, classes []string, photos []Photo, progress func(done, total int)) ([]NearCopy, error) {
	prints := make([]Print, len(photos))
	for i, p := range photos {
		prints[i] = p.Print
	}
	pairs, err := nearPairs(ctx, prints, MaxPairsPerPhoto*len(photos), progress)
	if err != nil {
		return nil, err
	}
	var out []NearCopy
	for _, pr := range pairs {
		a, b := photos[pr.a], photos[pr.b]
		out = append(out, NearCopy{
			Paths: [2]string{a.Path, b.Path}, SHA256: [2]string{hexHash(a.Hash), hexHash(b.Hash)},
			Similarity: similarity(pr.dist), Splits: [2]string{a.Split.String(), b.Split.String()},
			Labels: [2]string{classes[a.Label], classes[b.Label]}})
	}
	return out, nil
}

// MaxPairsPerPhoto bounds the near-copies listed, on average per photo,
// so that a folder of many copies of the same few photos cannot fill the
// memory; the closest pairs are kept.
const MaxPairsPerPhoto = 10

func minMax(counts []int) (lo, hi int) {
	lo = -1
	for _, k := range counts {
		if k == 0 {
			continue
		}
		if lo < 0 || k < lo {
			lo = k
		}
		hi = max(hi, k)
	}
	return max(lo, 0), hi
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
