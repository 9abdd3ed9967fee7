package doctor

import (
	"cmp"
	"context"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// strangeNeighbours is the number of nearest neighbours whose mean
// distance makes a photo's strangeness: one neighbour would let two
// strangers vouch for each other.
const strangeNeighbours = 5

// strangeness returns, for each row of x (n×dim), its mean cosine distance
// to its strangeNeighbours nearest other rows, after the folder's mean
// feature is taken away (pooled features are all positive, so raw
// cosines put every pair near 1). The n×n similarities are computed in
// blocks of rows, so memory stays at a block × n.
func strangeness(ctx context.Context, x []float32, dim int, probes [][]float32) (rows, probe []float64, err error) {
	n := len(x) / dim
	mean := make([]float64, dim)
	for i := range n {
		for j, v := range x[i*dim : (i+1)*dim] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(max(n, 1))
	}
	unit := func(src []float32, dst []float32) {
		s := 0.0
		for j, v := range src {
			d := float64(v) - mean[j]
			dst[j] = float32(d)
			s += d * d
		}
		if s = math.Sqrt(s); s > 0 {
			for j := range dst {
				dst[j] /= float32(s)
			}
		}
	}
	u := make([]float32, n*dim)
	for i := range n {
		unit(x[i*dim:(i+1)*dim], u[i*dim:(i+1)*dim])
	}
	score := func(q []float32, m int, self int) ([]float64, error) {
		out := make([]float64, m)
		const blockRows = 256
		sims := make([]float32, blockRows*n)
		for lo := 0; lo < m; lo += blockRows {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			hi := min(m, lo+blockRows)
			b := hi - lo
			gonum.Implementation{}.Sgemm(blas.NoTrans, blas.Trans, b, n, dim, 1, q[lo*dim:hi*dim], dim, u, dim, 0, sims[:b*n], n)
			for r := range b {
				row := sims[r*n : (r+1)*n]
				if self >= 0 {
					row[lo+r] = float32(math.Inf(-1))
				}
				out[lo+r] = 1 - topMean(row, strangeNeighbours)
			}
		}
		return out, nil
	}
	if rows, err = score(u, n, 0); err != nil {
		return nil, nil, err
	}
	if len(probes) > 0 {
		q := make([]float32, len(probes)*dim)
		for i, p := range probes {
			unit(p, q[i*dim:(i+1)*dim])
		}
		if probe, err = score(q, len(probes), -1); err != nil {
			return nil, nil, err
		}
	}
	return rows, probe, nil
}

// topMean returns the mean of the k largest values of row.
func topMean(row []float32, k int) float64 {
	k = min(k, len(row))
	top := make([]float32, 0, k+1)
	for _, v := range row {
		if math.IsInf(float64(v), -1) {
			continue
		}
		if len(top) < k || v > top[len(top)-1] {
			i, _ := slices.BinarySearchFunc(top, v, func(a, b float32) int { return cmp.Compare(b, a) })
			top = slices.Insert(top, i, v)
			if len(top) > k {
				top = top[:k]
			}
		}
	}
	s := 0.0
	for _, v := range top {
		s += float64(v)
	}
	return s / float64(max(len(top), 1))
}

// outlierCut returns the strangeness above which a photo is listed: the
// median plus strangeMADs robust deviations (the median absolute
// deviation, scaled to a normal's deviation). A robust cut, because the
// strangers themselves would inflate a mean and a standard deviation.
func outlierCut(s []float64) (cut, median, spread float64) {
	v := slices.Clone(s)
	slices.Sort(v)
	median = quantile(v, 0.5)
	dev := make([]float64, len(v))
	for i, x := range v {
		dev[i] = math.Abs(x - median)
	}
	slices.Sort(dev)
	spread = 1.4826 * quantile(dev, 0.5)
	return median + strangeMADs*spread, median, spread
}

// strangeMADs is how many robust deviations above the median a photo's
// strangeness must be to be listed. At 3, ordinary photos in the tail of
// a folder's distances were listed too (2 of 180 in TestStrangersListed's
// clusters); at 4, none, while photos far from every class stand 10 and
// more above.
const strangeMADs = 4

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}
