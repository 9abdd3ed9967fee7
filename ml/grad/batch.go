package grad

import "math/rand/v2"

// DropoutMask fills mask with a fresh inverted-dropout mask: each entry is
// 0 with probability rate, else 1/(1-rate), drawn from rng so that a run
// is reproducible from its seed. Training graphs take the mask as an input
// (see Builder.Dropout) rather than drawing it inside the graph.
func DropoutMask(mask []float32, rate float64, rng *rand.Rand) {
	keep := float32(1 / (1 - rate))
	// Each 64-bit draw decides two entries, 32 bits each: the drop
	// probability is rate to within 2⁻³², at half the draws (drawing the
	// masks was a tenth of a head epoch on the CPU).
	limit := uint64(rate * (1 << 32))
	for i := 0; i < len(mask); i += 2 {
		r := rng.Uint64()
		mask[i] = keep
		if r&0xffffffff < limit {
			mask[i] = 0
		}
		if i+1 < len(mask) {
			mask[i+1] = keep
			if r>>32 < limit {
				mask[i+1] = 0
			}
		}
	}
}

// Targets fills target (len(y) rows of classes) with the label-smoothed
// one-hot targets of the labels y, as Keras smooths them, and scale (one
// per row) with each sample's weight w divided by the batch size, so that
// the graph's loss is the weighted mean.
func Targets(target, scale []float32, y []int, w []float32, classes int, smoothing float64) {
	off := float32(smoothing / float64(classes))
	on := float32(1-smoothing) + off
	n := len(y)
	for r := range n {
		for c := range classes {
			target[r*classes+c] = off
		}
		target[r*classes+y[r]] = on
		scale[r] = w[r] / float32(n)
	}
}

// Correct counts the rows of probs (len(y) rows of classes) whose most
// probable class is the label in y.
func Correct(probs []float32, y []int, classes int) int {
	correct := 0
	for r := range y {
		pr := probs[r*classes : (r+1)*classes]
		best := 0
		for c, p := range pr {
			if p > pr[best] {
				best = c
			}
		}
		if best == y[r] {
			correct++
		}
	}
	return correct
}

// Order returns the order of an epoch's n samples, reusing perm's memory:
// a shuffle of the identity, so that each epoch's order depends only on
// rng's state, not on the previous epoch's order.
func Order(perm []int, n int, rng *rand.Rand) []int {
	if cap(perm) < n {
		perm = make([]int, n)
	}
	perm = perm[:n]
	for i := range perm {
		perm[i] = i
	}
	rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	return perm
}
