package app

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/clasifica/clasifica/internal/safemove"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/doctor"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

// Classifier is a model ready to classify photos on an engine.
type Classifier struct {
	Model  *model.Model
	Engine *Engine
	// MinConfidence is the confidence below which a photo is answered
	// "not sure" (Prediction.Unsure): the model's threshold unless
	// changed; 0 answers every photo.
	MinConfidence float64
	head          *head.Head
	// strangers answers "not one of its kinds"; nil when the model keeps
	// no statistics for it or training turned the answer off.
	strangers *doctor.Profile
	// recheckGap is the gap between the two best classes below which an
	// 8-bit answer is computed again in float (see settle); 0 in float.
	recheckGap float64
	rechecked  atomic.Int64
}

// NewClassifier pairs m with eng, which must run the backbone m was
// trained on.
func NewClassifier(m *model.Model, eng *Engine) (*Classifier, error) {
	if m.Backbone.SHA256 != eng.Backbone.SHA256 {
		return nil, fmt.Errorf("the model was trained on backbone %q, the engine runs %q", m.Backbone.Name, eng.Backbone.Name)
	}
	h, err := head.FromLayers(m.Head)
	if err != nil {
		return nil, err
	}
	prof, err := train.Profile(m)
	if err != nil {
		return nil, err
	}
	c := &Classifier{Model: m, Engine: eng, MinConfidence: ModelThreshold(m), head: h, strangers: prof}
	if eng.Precision == PrecisionInt8 {
		c.recheckGap = recheckGap(m)
	}
	return c, nil
}

// Scored is a label with its probability.
type Scored struct {
	Label       string  `json:"label"`
	Probability float64 `json:"probability"`
}

// Prediction is the classification of one photo: the labels by decreasing
// probability, or the reason it could not be classified.
type Prediction struct {
	Path  string    `json:"path"`
	Top   []Scored  `json:"top,omitempty"`
	Probs []float32 `json:"-"`
	Err   error     `json:"-"`
	// Unsure says that the model is less confident than its threshold:
	// the answer is "not sure", Top[0] only its best guess.
	Unsure bool `json:"unsure,omitempty"`
	// Stranger says that the photo is far from every kind the model
	// knows: the answer is "not one of its kinds", Top[0] only its best
	// guess. StrangerScore ranks such photos, strangest first (see
	// doctor.StrangeScore: 0.5 and more for a stranger); both stay zero
	// when the model does not judge strangers.
	Stranger      bool    `json:"stranger,omitempty"`
	StrangerScore float64 `json:"stranger_score,omitempty"`
	// Rechecked says that the answer was a close call in 8 bits and is
	// the float image model's (see Classifier.Rechecked).
	Rechecked bool `json:"rechecked,omitempty"`
}

// Label returns the most probable label, or "" for a failed photo.
func (p Prediction) Label() string {
	if len(p.Top) == 0 {
		return ""
	}
	return p.Top[0].Label
}

// Confidence returns the most probable label's probability.
func (p Prediction) Confidence() float64 {
	if len(p.Top) == 0 {
		return 0
	}
	return p.Top[0].Probability
}

// ListPhotos expands files and folders (walked recursively) into photo
// files, skipping hidden and system files; unreadable entries are returned
// as problems.
func ListPhotos(ctx context.Context, inputs []string) ([]string, []dataset.Problem, error) {
	return dataset.ListPhotos(ctx, inputs)
}

// Classify classifies the photos at paths. Photos that cannot be read come
// back with Err set; they never stop the others. progress may be nil.
func (c *Classifier) Classify(ctx context.Context, paths []string, progress func(features.Progress)) ([]Prediction, error) {
	items := make([]features.Item, len(paths))
	for i, p := range paths {
		items[i] = features.Item{Path: p}
	}
	var preds []Prediction
	// Close calls are settled as each batch is ready, so that progress
	// includes them.
	_, err := c.Engine.Extractor(false).ExtractEach(ctx, items, progress, func(res *features.Result, from, to int) error {
		p, err := c.predictions(ctx, items, res, from, to)
		preds = append(preds, p...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return preds, nil
}

// predictions settles the close calls among the photos [from, to) of
// items, whose features res holds, and runs the head on their features.
func (c *Classifier) predictions(ctx context.Context, items []features.Item, res *features.Result, from, to int) ([]Prediction, error) {
	if from == to {
		return nil, nil
	}
	rechecked, err := c.settle(ctx, items, res, from, to)
	if err != nil {
		return nil, err
	}
	probs, err := c.head.Predict(res.Features[from*features.Dim : to*features.Dim])
	if err != nil {
		return nil, err
	}
	n := len(c.Model.Labels)
	out := make([]Prediction, to-from)
	for k := range out {
		i := from + k
		out[k] = Prediction{Path: items[i].Path, Err: res.Errs[i]}
		if res.Errs[i] == nil {
			out[k].Probs = probs[k*n : (k+1)*n]
			out[k].Top = Rank(c.Model.Labels, out[k].Probs)
			out[k].Unsure = out[k].Confidence() < c.MinConfidence
			out[k].Stranger, out[k].StrangerScore = c.stranger(res.Row(i))
		}
	}
	for _, i := range rechecked {
		out[i-from].Rechecked = true
	}
	return out, nil
}

// stranger says whether a photo with features x is "not one of the
// model's kinds", and its stranger score; false and 0 when the model does
// not judge strangers.
func (c *Classifier) stranger(x []float32) (bool, float64) {
	if c.strangers == nil {
		return false, 0
	}
	z, _ := c.strangers.Deviations(x)
	return z >= doctor.StrangeDeviations, doctor.StrangeScore(z)
}

// JudgesStrangers reports whether the classifier answers "not one of its
// kinds", and if not, why (empty for models that keep nothing for it).
func (c *Classifier) JudgesStrangers() (bool, string) {
	return StrangersJudged(c.Model)
}

// StrangersJudged reports whether m answers "not one of its kinds", and if
// not, why, in users' words.
func StrangersJudged(m *model.Model) (bool, string) {
	switch s := m.Strangers; {
	case s == nil:
		return false, "This model was trained before Clasifica could tell photos of other things: train it again to have it say \"not one of its kinds\"."
	case !s.Judged:
		return false, s.Reason + "."
	}
	return true, ""
}

// StrangersNote says in a sentence what m does with photos of things it
// was never taught: "" for models that keep nothing for it.
func StrangersNote(m *model.Model) string {
	judged, why := StrangersJudged(m)
	switch {
	case m.Strangers == nil:
		return ""
	case judged:
		return "For a photo far from every kind it knows (a page of text, a screenshot), it answers \"Not one of its kinds\"."
	}
	return "It cannot say \"Not one of its kinds\": " + strings.ToLower(why[:1]) + why[1:]
}

// Rank returns labels with their probabilities, most probable first.
func Rank(labels []string, probs []float32) []Scored {
	s := make([]Scored, len(labels))
	for i := range labels {
		s[i] = Scored{Label: labels[i], Probability: float64(probs[i])}
	}
	sort.SliceStable(s, func(i, j int) bool { return s[i].Probability > s[j].Probability })
	return s
}

// WriteCSV writes predictions as CSV: path, label, probability and the top
// three labels with their probabilities; failed photos have an empty label
// and the reason in an error column. The last columns say whether the
// answer is "not sure" and whether it is "not one of its kinds" (label is
// then the best guess); they come last so that readers of the older
// columns by position keep working.
func WriteCSV(w io.Writer, preds []Prediction) error {
	cw := csv.NewWriter(w)
	header := []string{"path", "label", "probability", "top1", "top1_probability", "top2", "top2_probability", "top3", "top3_probability", "error", "unsure", "stranger"}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, p := range preds {
		row := make([]string, len(header))
		row[0] = p.Path
		if p.Err != nil {
			row[len(row)-3] = p.Err.Error()
		} else {
			row[len(row)-2] = strconv.FormatBool(p.Unsure)
			row[len(row)-1] = strconv.FormatBool(p.Stranger)
			row[1], row[2] = p.Label(), prob(p.Confidence())
			for k := 0; k < 3 && k < len(p.Top); k++ {
				row[3+2*k], row[4+2*k] = p.Top[k].Label, prob(p.Top[k].Probability)
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func prob(p float64) string { return strconv.FormatFloat(p, 'f', 6, 64) }

// UnsureFolder receives photos below the confidence threshold when sorting.
const UnsureFolder = "_unsure"

// StrangersFolder receives, when sorting, the photos the model answers
// "not one of its kinds": a photo of something it was never taught would
// otherwise land, confidently or not, among one of the kinds.
const StrangersFolder = "_strangers"

// Sorted reports what SortInto did with one photo.
type Sorted struct {
	From, To string // To is empty when the photo was not copied
	Skipped  string // why not, when not
}

// SortInto copies (never moves) each classified photo into out/<label>/,
// out/_strangers/ when it is not one of the model's kinds, or out/_unsure/
// when its confidence is below minConfidence. An existing
// file is never overwritten: a photo whose name is taken gets a numbered
// name, and a photo already there with the same content is not copied
// again. Failed predictions are not copied.
func SortInto(ctx context.Context, preds []Prediction, out string, minConfidence float64) ([]Sorted, error) {
	var done []Sorted
	for _, p := range preds {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		if p.Err != nil {
			done = append(done, Sorted{From: p.Path, Skipped: p.Err.Error()})
			continue
		}
		folder := safeName(p.Label())
		switch {
		case p.Stranger:
			folder = StrangersFolder
		case p.Confidence() < minConfidence:
			folder = UnsureFolder
		}
		dir := filepath.Join(out, folder)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return done, fmt.Errorf("sort into %s: %w", dir, err)
		}
		to, err := copyNoClobber(p.Path, dir)
		if err != nil {
			return done, fmt.Errorf("copy %s: %w", p.Path, err)
		}
		s := Sorted{From: p.Path, To: to}
		if to == "" {
			s.Skipped = "already there"
		}
		done = append(done, s)
	}
	return done, nil
}

// safeName turns a label into a folder name that is valid everywhere.
func safeName(label string) string {
	s := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < 32 {
			return '_'
		}
		return r
	}, label)
	s = strings.Trim(s, " .")
	if s == "" {
		s = "_"
	}
	return s
}

// copyNoClobber copies src into dir under its own name, or a numbered
// variant when that name holds another file; it returns the new path, or
// "" when dir already holds an identical copy.
func copyNoClobber(src, dir string) (string, error) {
	base := filepath.Base(src)
	for n := 1; n < 10000; n++ {
		dst := filepath.Join(dir, safemove.NumberedName(base, n))
		if same, err := sameContent(src, dst); err == nil && same {
			return "", nil
		}
		out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		in, err := os.Open(src)
		if err != nil {
			out.Close()
			os.Remove(dst)
			return "", err
		}
		_, err = io.Copy(out, in)
		in.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
			return "", err
		}
		return dst, nil
	}
	return "", fmt.Errorf("too many files named like %s in %s", base, dir)
}

func sameContent(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil || sa.Size() != sb.Size() {
		return false, err
	}
	da, err := os.ReadFile(a)
	if err != nil {
		return false, err
	}
	db, err := os.ReadFile(b)
	if err != nil {
		return false, err
	}
	return string(da) == string(db), nil
}
