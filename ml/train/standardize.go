package train

import (
	"iter"
	"math"

	"github.com/clasifica/clasifica/ml/head"
)

// standardizer maps each feature to zero mean and (about) unit variance
// over the training photos, as a Keras Normalization layer adapted to them
// would.
// Pooled backbone features are non-negative and their scale depends on the
// backbone (a fine-tuned backbone can produce sparse features a hundred
// times smaller than ImageNet's), and Adam on unscaled features learns that
// much slower; standardized, the same defaults suit every backbone.
//
// The model file holds no normalization: after training, it is folded into
// the first layer's weights, so that the head reads raw features.
type standardizer struct {
	mean, scale []float32 // scale is 1/(floored deviation)
}

// newStandardizer measures the rows rows yields (twice: the mean first,
// then the variance around it, which is exact where one pass of sums of
// squares loses precision).
func newStandardizer(rows iter.Seq[[]float32], dim int) *standardizer {
	n := 0
	sum := make([]float64, dim)
	sq := make([]float64, dim)
	for row := range rows {
		for i, v := range row {
			sum[i] += float64(v)
		}
		n++
	}
	s := &standardizer{mean: make([]float32, dim), scale: make([]float32, dim)}
	for i := range dim {
		s.mean[i] = float32(sum[i] / float64(max(n, 1)))
	}
	for row := range rows {
		for i, v := range row {
			d := float64(v) - float64(s.mean[i])
			sq[i] += d * d
		}
	}
	// Rare features (zero for almost every photo, as pooled ReLU outputs
	// of a fine-tuned backbone often are) have a tiny deviation; dividing
	// by it would blow their rare values up to dozens of deviations and
	// let them dominate. So deviations are floored at their mean.
	stds := make([]float64, dim)
	var mean float64
	for i := range dim {
		stds[i] = math.Sqrt(sq[i] / float64(max(n, 1)))
		mean += stds[i] / float64(dim)
	}
	for i := range dim {
		if d := math.Max(stds[i], mean); d > 1e-12 {
			s.scale[i] = float32(1 / d)
		} else {
			s.scale[i] = 1 // every feature is constant
		}
	}
	return s
}

// apply standardizes the rows of x in place.
func (s *standardizer) apply(x []float32) {
	dim := len(s.mean)
	for r := 0; r+dim <= len(x); r += dim {
		row := x[r : r+dim]
		for i := range row {
			row[i] = (row[i] - s.mean[i]) * s.scale[i]
		}
	}
}

// fold returns layers that compute on raw features what layers compute on
// standardized ones: W'[i] = W[i]·scale[i], b' = b - Σ mean[i]·W'[i].
func (s *standardizer) fold(layers []head.Dense) []head.Dense { return s.rescale(layers, true) }

// unfold is fold's inverse: it turns a head that reads raw features (a
// saved model's) into one that reads standardized features, to continue
// training it.
func (s *standardizer) unfold(layers []head.Dense) []head.Dense { return s.rescale(layers, false) }

func (s *standardizer) rescale(layers []head.Dense, fold bool) []head.Dense {
	first := layers[0]
	k := make([]float32, len(first.Kernel))
	b := make([]float64, first.Out)
	for j := range b {
		b[j] = float64(first.Bias[j])
	}
	for i := range first.In {
		for j := range first.Out {
			w := float64(first.Kernel[i*first.Out+j])
			// raw is the weight on the raw feature, the one the bias
			// correction uses in both directions.
			raw, out := w*float64(s.scale[i]), 0.0
			if fold {
				out = raw
				b[j] -= float64(s.mean[i]) * raw
			} else {
				raw = w
				out = w / float64(s.scale[i])
				b[j] += float64(s.mean[i]) * raw
			}
			k[i*first.Out+j] = float32(out)
		}
	}
	first.Kernel = k
	first.Bias = make([]float32, first.Out)
	for j := range b {
		first.Bias[j] = float32(b[j])
	}
	return append([]head.Dense{first}, layers[1:]...)
}
