package doctor

import (
	"cmp"
	"context"
	"math/bits"
	"runtime"
	"slices"
	"sync"
)

// Near-copy thresholds, in differing bits of the 256-bit hashes. Unrelated
// photos differ in about half their bits (128). Measured on the sample
// photos with 20 planted copies each (cropped 5%, resized to 70%, JPEG
// quality 60; see near_test.go): the copies differ by 17–47 bits on the
// whole photo and 12–48 on its centre, their mean at most 45; the closest
// unrelated pets by 77 and 76, mean 76. The bound on the mean sits between
// the two, nearer the copies' side, because a false pair costs the user a
// look while a missed one leaves the test accuracy inflated silently.
const (
	// nearMean bounds the mean of the whole and centre distances.
	nearMean = 58
	// nearEach bounds each of them: a pair whose centres match but whose
	// wholes do not is a different framing of the scene, not a copy.
	nearEach = 72
	// prefilter bounds the 64-bit hash's distance before the 256-bit ones
	// are compared (the copies above differ by 9 bits at most, unrelated
	// pets by 14 or more): most pairs are rejected by one popcount.
	prefilter = 24
)

// pair is a near-copy found among the photos: their indices (a < b) and
// the mean of their hashes' distances.
type pair struct {
	a, b int32
	dist int16
}

// nearPairs returns the pairs of photos whose prints say they are the same
// shot, closest first. Every pair is compared (50 million for 10,000
// photos: a popcount each, most rejected by the 64-bit hash), in rows
// shared among the cores; memory grows only with the pairs found, which
// are capped at maxPairs, keeping the closest.
func nearPairs(ctx context.Context, prints []Print, maxPairs int, progress func(done, total int)) ([]pair, error) {
	n := len(prints)
	workers := runtime.GOMAXPROCS(0)
	rows := make(chan int)
	results := make([][]pair, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rows {
				pi := prints[i]
				if pi.IsZero() {
					continue
				}
				for j := i + 1; j < n; j++ {
					pj := &prints[j]
					if bits.OnesCount64(pi.Whole8^pj.Whole8) > prefilter || pj.IsZero() {
						continue
					}
					dist, ok := nearDistance(&pi, pj)
					if !ok {
						continue
					}
					results[w] = append(results[w], pair{int32(i), int32(j), int16(dist)})
					if maxPairs > 0 && len(results[w]) >= 2*maxPairs+1024 {
						results[w] = closest(results[w], maxPairs)
					}
				}
			}
		}()
	}
	var err error
	// Rows are handed out from both ends in turn, so that the long first
	// rows and the short last ones balance among the workers.
	for k := range n {
		i := k / 2
		if k%2 == 1 {
			i = n - 1 - k/2
		}
		if k%256 == 0 {
			if err = ctx.Err(); err != nil {
				break
			}
			if progress != nil {
				progress(k, n)
			}
		}
		rows <- i
	}
	close(rows)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress(n, n)
	}
	var out []pair
	for _, r := range results {
		out = append(out, r...)
	}
	return closest(out, maxPairs), nil
}

// nearDistance compares two prints whose 64-bit hashes passed the
// prefilter: the mean distance of their 256-bit hashes, and whether that
// makes them a near-copy pair.
func nearDistance(a, b *Print) (int, bool) {
	dw := hamming256(a.Whole16, b.Whole16)
	if dw > nearEach {
		return 0, false
	}
	dc := hamming256(a.Centre16, b.Centre16)
	if dc > nearEach || dw+dc > 2*nearMean || !sharesEdges(a.Whole16, b.Whole16, dw) || !sharesEdges(a.Centre16, b.Centre16, dc) {
		return 0, false
	}
	return (dw + dc + 1) / 2, true
}

// NearCopyOf reports whether p and q are prints of the same shot by the
// calibrated thresholds the near-copy search uses, and how similar they
// are (in [0, 1], 1 for the same pixels). An unknown (zero) print is
// nobody's copy.
func (p Print) NearCopyOf(q Print) (float64, bool) {
	if p.IsZero() || q.IsZero() || bits.OnesCount64(p.Whole8^q.Whole8) > prefilter {
		return 0, false
	}
	d, ok := nearDistance(&p, &q)
	if !ok {
		return 0, false
	}
	return similarity(int16(d)), true
}

// sharesEdges reports whether two 256-bit hashes d bits apart set at least
// half of their set bits together (3d ≤ |a|+|b|). A difference hash sets a
// bit only where the picture darkens to the right, so two nearly flat
// pictures (a page of text, a screenshot) agree on most bits only because
// neither has an edge there: seen on such a pair 42 and 11 bits apart,
// close enough to be called copies, with 3 bits set in common out of 17 in
// their centres. For photos, which set about half their bits, the bound
// (85 bits at 128 set) is looser than nearEach and changes nothing; two
// blank pictures still pair.
func sharesEdges(a, b [4]uint64, d int) bool {
	n := 0
	for i := range a {
		n += bits.OnesCount64(a[i]) + bits.OnesCount64(b[i])
	}
	return 3*d <= n
}

// closest sorts pairs closest first (then by index, so that the order
// does not depend on the workers) and keeps at most max of them (all for
// max ≤ 0).
func closest(pairs []pair, max int) []pair {
	slices.SortFunc(pairs, func(x, y pair) int {
		if c := cmp.Compare(x.dist, y.dist); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	if max > 0 && len(pairs) > max {
		pairs = slices.Clip(pairs[:max])
	}
	return pairs
}

// similarity maps a mean distance in bits to [0, 1]: 1 for the same
// hashes, 0 for the half of the bits unrelated photos differ by.
func similarity(dist int16) float64 {
	return max(0, 1-float64(dist)/128)
}
