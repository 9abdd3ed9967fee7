package head

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// chunkRows bounds the rows Predict and Evaluate push through the network at
// once, so that their scratch memory stays at about a megabyte however many
// samples they are given, while each product is still large enough for
// gonum to split across cores.
const chunkRows = 256

// activations holds the intermediate values of a forward pass over up to a
// fixed number of rows.
type activations struct {
	hid []float32 // rows×hidden: ReLU outputs, times the dropout multipliers when training
	in  []float32 // rows×inputs: the features times the dropout multipliers (training a head without a hidden layer)
	z   []float32 // rows×classes: logits, then probabilities
}

// newActivations returns the scratch memory for forward passes of up to
// rows samples without dropout.
func (h *Head) newActivations(rows int) *activations {
	a := &activations{z: make([]float32, rows*h.classes)}
	if len(h.layers) == 2 {
		a.hid = make([]float32, rows*h.layers[0].out)
	}
	return a
}

// affine sets z (n×l.out) to x·W + b for the n rows of x (n×l.in).
func affine(l *dense, x []float32, n int, z []float32) {
	for r := range n {
		copy(z[r*l.out:(r+1)*l.out], l.b)
	}
	gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, n, l.out, l.in, 1, x, l.in, l.w, l.out, 1, z, l.out)
}

// forward computes the logits of the n rows of x into a.z. drop, when not
// nil, holds one multiplier (0 or 1/(1-rate)) per input of the output layer
// and row: the dropout mask of a training step.
func (h *Head) forward(x []float32, n int, a *activations, drop []float32) {
	in := x
	if len(h.layers) == 2 {
		hid := a.hid[:n*h.layers[0].out]
		affine(&h.layers[0], x, n, hid)
		if drop != nil {
			for i, v := range hid {
				hid[i] = max(v, 0) * drop[i]
			}
		} else {
			for i, v := range hid {
				hid[i] = max(v, 0)
			}
		}
		in = hid
	} else if drop != nil {
		in = a.in[:n*h.inputs]
		for i, v := range x[:n*h.inputs] {
			in[i] = v * drop[i]
		}
	}
	affine(&h.layers[len(h.layers)-1], in, n, a.z[:n*h.classes])
}

// softmax replaces the logits z of one sample by probabilities and returns
// the cross-entropy against the target distribution (1-s)·onehot(label) +
// s/len(z), and whether the largest logit (the first, on ties) is the
// label's. With m the largest logit, the cross-entropy is
// log Σ exp(z-m) - Σ target·(z-m): every exponential is at most 1 and the
// sum at least 1, so nothing overflows, no log of 0 is taken and logits far
// from 0 keep their differences.
func softmax(z []float32, label int, s float64) (loss float64, correct bool) {
	best := 0
	for c, v := range z {
		if v > z[best] {
			best = c
		}
	}
	m := float64(z[best])
	var sum, dsum float64
	for _, v := range z {
		d := float64(v) - m
		sum += math.Exp(d)
		dsum += d
	}
	loss = math.Log(sum) - (1-s)*(float64(z[label])-m) - s/float64(len(z))*dsum
	for c, v := range z {
		z[c] = float32(math.Exp(float64(v)-m) / sum)
	}
	return loss, best == label
}

// Predict returns the class probabilities of the samples in x, which holds
// rows of Inputs() features, as a rows×Classes() row-major slice. Dropout is
// not applied. Features are not checked: a row with NaN or infinite features
// gets meaningless (usually NaN) probabilities, the other rows are
// unaffected.
func (h *Head) Predict(x []float32) ([]float32, error) {
	if len(x)%h.inputs != 0 {
		return nil, fmt.Errorf("head: predict: %d feature values is not a whole number of samples of %d features", len(x), h.inputs)
	}
	n := len(x) / h.inputs
	out := make([]float32, n*h.classes)
	a := &activations{}
	if len(h.layers) == 2 {
		a.hid = make([]float32, min(n, chunkRows)*h.layers[0].out)
	}
	for r0 := 0; r0 < n; r0 += chunkRows {
		r1 := min(r0+chunkRows, n)
		// Write the logits straight into the result.
		a.z = out[r0*h.classes : r1*h.classes]
		h.forward(x[r0*h.inputs:r1*h.inputs], r1-r0, a, nil)
		for r := range r1 - r0 {
			zr := a.z[r*h.classes : (r+1)*h.classes]
			softmax(zr, 0, 0)
		}
	}
	return out, nil
}

// Evaluate returns the head's loss and accuracy on labelled samples, for
// validation: x holds len(y) rows of Inputs() features, y the classes and w,
// when not nil, a non-negative weight per sample. The loss is the
// cross-entropy against the true labels (no label smoothing, whatever the
// training used, so that losses of differently smoothed runs compare),
// weighted per sample and averaged over the samples as Keras does:
// Σ wᵢ·lossᵢ / n. The accuracy is the unweighted fraction of samples whose
// most probable class is the label.
func (h *Head) Evaluate(x []float32, y []int, w []float32) (loss, accuracy float64, err error) {
	if err := h.checkSamples(x, y, w); err != nil {
		return 0, 0, err
	}
	n := len(y)
	a := h.newActivations(min(n, chunkRows))
	var sum float64
	correct := 0
	for r0 := 0; r0 < n; r0 += chunkRows {
		r1 := min(r0+chunkRows, n)
		h.forward(x[r0*h.inputs:r1*h.inputs], r1-r0, a, nil)
		for r := r0; r < r1; r++ {
			l, ok := softmax(a.z[(r-r0)*h.classes:(r-r0+1)*h.classes], y[r], 0)
			if w != nil {
				l *= float64(w[r])
			}
			sum += l
			if ok {
				correct++
			}
		}
	}
	return sum / float64(n), float64(correct) / float64(n), nil
}
