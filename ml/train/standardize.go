package train

import (
	"iter"

	"github.com/clasifica/clasifica/ml/head"
)

// standardizer centres each feature on its mean over the training photos
// and leaves its scale as the backbone made it.
//
// Centring removes what all photos share: pooled ReLU features are
// non-negative, so on raw features every hidden unit starts with a large
// common input that tells no class from another. Scaling to unit
// variance, as a Keras Normalization layer would and as Clasifica did
// before, is deliberately not done: Adam moves every weight by about the
// learning rate at each step whatever the gradient's size, so the change
// of a hidden unit's input per step grows with the features' size, and the
// recipe's learning rate (1e-3) suits the features backbones make. Unit
// variance made the offline backbone's features (mean 0.02) about 14 times
// larger: the head overshot in its first epoch (training loss 0.9-1.2
// after it for two classes, above the ln 2 of a guess), was overconfident
// within a few epochs, and early stopping on the validation loss kept an
// early, less accurate epoch (issue 16; see TestHeadAccuracy).
//
// The type keeps a per-feature scale (all 1 here) because the fine-tuning
// graph and fold take one. The model file holds no normalization: after
// training, it is folded into the first layer's weights, so that the head
// reads raw features.
type standardizer struct {
	mean, scale []float32
}

// newStandardizer measures the rows rows yields.
func newStandardizer(rows iter.Seq[[]float32], dim int) *standardizer {
	n := 0
	sum := make([]float64, dim)
	for row := range rows {
		for i, v := range row {
			sum[i] += float64(v)
		}
		n++
	}
	s := &standardizer{mean: make([]float32, dim), scale: make([]float32, dim)}
	for i := range dim {
		s.mean[i] = float32(sum[i] / float64(max(n, 1)))
		s.scale[i] = 1
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
