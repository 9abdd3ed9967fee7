package doctor

import (
	"cmp"
	"math"
	"slices"
)

// issue is a photo confident learning flags: its row, the label it most
// likely has, and the ranking score.
type issue struct {
	row       int
	suggested int
	score     float64
}

// confidentIssues finds the rows whose given label is probably wrong, from
// out-of-fold probabilities, by confident learning (Northcutt, Jiang and
// Chuang 2021, as cleanlab's find_label_issues does by default):
//
//  1. Each class j gets a threshold t_j: the mean probability of j over
//     the rows labelled j (its mean self-confidence). A threshold per class
//     copes with classes the model is less sure of, small or unbalanced.
//  2. A row is counted in the confident joint at (given label, j), j the
//     most probable of the classes whose probability reaches its
//     threshold; rows with no such class are not counted.
//  3. The joint is calibrated: each row of it scaled to the given label's
//     count, then the whole to the number of rows, which estimates how many
//     photos labelled i really are j.
//  4. Pruning by noise rate: for each pair i ≠ j, that many rows labelled
//     i are flagged, those with the largest margin p_j − p_i.
//  5. A row whose most probable class is its given label is never
//     flagged.
//
// skip[c] keeps rows labelled c out (classes too small to judge). The
// result is ranked by self-confidence (1 − p_given, largest first), the
// ranking cleanlab uses by default, which put more planted wrong labels
// first than the margin p_suggested − p_given on the sample photos.
func confidentIssues(probs [][]float64, labels []int, classes int, skip []bool) []issue {
	if probs == nil {
		return nil
	}
	n := len(labels)
	count := make([]int, classes)
	thr := make([]float64, classes)
	for i, l := range labels {
		count[l]++
		thr[l] += probs[i][l]
	}
	for c := range thr {
		if count[c] > 0 {
			thr[c] /= float64(count[c])
		} else {
			thr[c] = math.Inf(1) // no photo says what the class looks like
		}
	}
	joint := make([][]float64, classes)
	for c := range joint {
		joint[c] = make([]float64, classes)
	}
	for i, l := range labels {
		best, bp := -1, -1.0
		for j, p := range probs[i] {
			if p >= thr[j]-1e-6 && p > bp {
				best, bp = j, p
			}
		}
		if best >= 0 {
			joint[l][best]++
		}
	}
	// Calibrate: rows to the given labels' counts, then the total to n.
	total := 0.0
	for i := range joint {
		s := 0.0
		for _, v := range joint[i] {
			s += v
		}
		for j := range joint[i] {
			if s > 0 {
				joint[i][j] *= float64(count[i]) / s
			}
			total += joint[i][j]
		}
	}
	if total > 0 {
		for i := range joint {
			for j := range joint[i] {
				joint[i][j] *= float64(n) / total
			}
		}
	}

	byLabel := make([][]int, classes)
	for i, l := range labels {
		byLabel[l] = append(byLabel[l], i)
	}
	flagged := map[int]issue{}
	for i := range classes {
		if skip != nil && skip[i] {
			continue
		}
		for j := range classes {
			if i == j {
				continue
			}
			k := int(math.Round(joint[i][j]))
			if k <= 0 {
				continue
			}
			rows := slices.Clone(byLabel[i])
			slices.SortStableFunc(rows, func(a, b int) int {
				return cmp.Compare(probs[b][j]-probs[b][i], probs[a][j]-probs[a][i])
			})
			for _, r := range rows[:min(k, len(rows))] {
				margin := probs[r][j] - probs[r][i]
				if old, ok := flagged[r]; !ok || margin > old.score {
					flagged[r] = issue{row: r, suggested: j, score: margin}
				}
			}
		}
	}
	out := make([]issue, 0, len(flagged))
	for r, is := range flagged {
		if argmax(probs[r]) == labels[r] {
			continue
		}
		// The suggestion is the most probable class: the pair that
		// flagged the row may be a weaker one.
		is.suggested = argmax(probs[r])
		is.score = 1 - probs[r][labels[r]]
		out = append(out, is)
	}
	slices.SortFunc(out, func(a, b issue) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.row, b.row)
	})
	return out
}

func argmax(p []float64) int {
	best := 0
	for j, v := range p {
		if v > p[best] {
			best = j
		}
	}
	return best
}
