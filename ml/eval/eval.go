// Package eval measures a classifier on labelled samples: accuracy, top-k
// accuracy, per-class precision, recall and F1, their macro averages, the
// confusion matrix and the misclassified samples, most confident first.
//
// A [Report] marshals to the JSON that `clasifica eval --format json`
// prints and writes itself as an aligned text table for the terminal.
package eval

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// ClassMetrics are one class's scores. A ratio whose denominator is 0 (no
// sample of the class, or none predicted as it) is 0.
type ClassMetrics struct {
	// Precision is the fraction of the samples predicted as the class that
	// belong to it.
	Precision float64 `json:"precision"`
	// Recall is the fraction of the class's samples predicted as it.
	Recall float64 `json:"recall"`
	// F1 is the harmonic mean of precision and recall.
	F1 float64 `json:"f1"`
	// Support is the number of samples of the class.
	Support int `json:"support"`
}

// Mistake is one misclassified sample.
type Mistake struct {
	// Index is the sample's position in the input.
	Index int `json:"index"`
	// Truth and Predicted are class indices into Report.Labels.
	Truth     int `json:"truth"`
	Predicted int `json:"predicted"`
	// Confidence is the probability given to the predicted class.
	Confidence float64 `json:"confidence"`
}

// Report is the evaluation of a classifier's probabilities against the true
// classes.
type Report struct {
	// N is the number of samples.
	N int
	// Accuracy is the fraction of samples whose most probable class (the
	// first, on ties) is the true class.
	Accuracy float64
	// TopK is the fraction of samples whose true class is among the K most
	// probable, ranking tied classes by index so that top-1 is Accuracy.
	TopK float64
	// K is the k of TopK, at most the number of classes.
	K int
	// Labels names the classes, in class-index order.
	Labels []string
	// PerClass holds each class's scores, in class-index order.
	PerClass []ClassMetrics
	// Macro holds the unweighted means of the per-class precision, recall
	// and F1 over the classes that occur among the true or the predicted
	// classes, as scikit-learn's classification report computes them; its
	// Support is N.
	Macro ClassMetrics
	// Confusion counts the samples of each true class (row) by predicted
	// class (column).
	Confusion [][]int
	// Mistakes lists the misclassified samples by decreasing confidence,
	// then by index: the most confident mistakes, often mislabelled
	// samples, first.
	Mistakes []Mistake
}

// ErrNoSamples is returned by Compute when there is nothing to evaluate.
var ErrNoSamples = errors.New("eval: no samples")

// Compute evaluates the probabilities probs, len(truth) rows of len(labels)
// values in row-major order, against the true classes truth, with top-k
// accuracy for k clamped to the number of classes. The labels must be
// distinct, as they key the JSON per-class object.
func Compute(labels []string, truth []int, probs []float32, k int) (*Report, error) {
	classes, n := len(labels), len(truth)
	if classes == 0 {
		return nil, errors.New("eval: no class labels")
	}
	seen := make(map[string]int, classes)
	for i, l := range labels {
		if j, ok := seen[l]; ok {
			return nil, fmt.Errorf("eval: classes %d and %d are both labelled %q", j, i, l)
		}
		seen[l] = i
	}
	if n == 0 {
		return nil, ErrNoSamples
	}
	if len(probs) != n*classes {
		return nil, fmt.Errorf("eval: %d probabilities for %d samples of %d classes, want %d", len(probs), n, classes, n*classes)
	}
	if k < 1 {
		return nil, fmt.Errorf("eval: top-k accuracy for k = %d, want k ≥ 1", k)
	}
	for i, c := range truth {
		if c < 0 || c >= classes {
			return nil, fmt.Errorf("eval: sample %d has class %d, want one in [0, %d)", i, c, classes)
		}
	}
	for i, p := range probs {
		if math.IsNaN(float64(p)) || math.IsInf(float64(p), 0) {
			return nil, fmt.Errorf("eval: sample %d class %d has probability %v, want a finite value", i/classes, i%classes, p)
		}
	}

	k = min(k, classes)
	r := &Report{
		N:         n,
		K:         k,
		Labels:    slices.Clone(labels),
		PerClass:  make([]ClassMetrics, classes),
		Confusion: make([][]int, classes),
	}
	for c := range r.Confusion {
		r.Confusion[c] = make([]int, classes)
	}
	correct, inTopK := 0, 0
	for i, t := range truth {
		row := probs[i*classes : (i+1)*classes]
		pred, rank := 0, 0
		for c, p := range row {
			if p > row[pred] {
				pred = c
			}
			// Classes ranked above the true one: more probable, or as
			// probable and earlier.
			if p > row[t] || p == row[t] && c < t {
				rank++
			}
		}
		r.Confusion[t][pred]++
		if rank < k {
			inTopK++
		}
		if pred == t {
			correct++
		} else {
			r.Mistakes = append(r.Mistakes, Mistake{Index: i, Truth: t, Predicted: pred, Confidence: float64(row[pred])})
		}
	}
	r.Accuracy = float64(correct) / float64(n)
	r.TopK = float64(inTopK) / float64(n)
	slices.SortFunc(r.Mistakes, func(a, b Mistake) int {
		return cmp.Or(cmp.Compare(b.Confidence, a.Confidence), cmp.Compare(a.Index, b.Index))
	})

	occurring := 0
	for c := range classes {
		tp, support, predicted := r.Confusion[c][c], 0, 0
		for j := range classes {
			support += r.Confusion[c][j]
			predicted += r.Confusion[j][c]
		}
		m := ClassMetrics{
			Precision: ratio(tp, predicted),
			Recall:    ratio(tp, support),
			// 2PR/(P+R) with P = tp/predicted and R = tp/support.
			F1:      ratio(2*tp, support+predicted),
			Support: support,
		}
		r.PerClass[c] = m
		if support > 0 || predicted > 0 {
			occurring++
			r.Macro.Precision += m.Precision
			r.Macro.Recall += m.Recall
			r.Macro.F1 += m.F1
		}
	}
	// n > 0, so at least one class occurs.
	r.Macro.Precision /= float64(occurring)
	r.Macro.Recall /= float64(occurring)
	r.Macro.F1 /= float64(occurring)
	r.Macro.Support = n
	return r, nil
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
