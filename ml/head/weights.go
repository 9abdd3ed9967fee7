package head

import "fmt"

// BalancedClassWeights returns one loss weight per class that counters class
// imbalance, n / (k·n_c) for a class with n_c of the n samples and k classes
// present, as scikit-learn's "balanced" mode and the Keras class_weight
// recipe compute it: every class present then carries the same total
// weight, and the weights average to 1 over the samples so the loss keeps
// its scale. A class without samples gets weight 0 and does not count in k.
// y holds one class in [0, classes) per sample.
func BalancedClassWeights(y []int, classes int) ([]float32, error) {
	if classes <= 0 {
		return nil, fmt.Errorf("head: class weights for %d classes, want a positive number", classes)
	}
	if len(y) == 0 {
		return nil, ErrNoSamples
	}
	counts := make([]int, classes)
	for i, c := range y {
		if c < 0 || c >= classes {
			return nil, fmt.Errorf("head: sample %d has label %d, want a class in [0, %d)", i, c, classes)
		}
		counts[c]++
	}
	present := 0
	for _, nc := range counts {
		if nc > 0 {
			present++
		}
	}
	weights := make([]float32, classes)
	for c, nc := range counts {
		if nc > 0 {
			weights[c] = float32(float64(len(y)) / (float64(present) * float64(nc)))
		}
	}
	return weights, nil
}

// SampleWeights returns the per-sample loss weights that apply the given
// per-class weights to the samples labelled y, for Trainer.Epoch and
// Head.Evaluate.
func SampleWeights(y []int, classWeights []float32) ([]float32, error) {
	w := make([]float32, len(y))
	for i, c := range y {
		if c < 0 || c >= len(classWeights) {
			return nil, fmt.Errorf("head: sample %d has label %d, want a class in [0, %d)", i, c, len(classWeights))
		}
		w[i] = classWeights[c]
	}
	return w, nil
}
