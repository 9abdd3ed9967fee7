package grad

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestDropoutMask(t *testing.T) {
	mask := make([]float32, 100000)
	DropoutMask(mask, 0.25, rand.New(rand.NewPCG(1, 2)))
	zeros := 0
	for _, m := range mask {
		switch m {
		case 0:
			zeros++
		case float32(1 / 0.75):
		default:
			t.Fatalf("mask value %v, want 0 or 1/(1-rate)", m)
		}
	}
	if share := float64(zeros) / float64(len(mask)); math.Abs(share-0.25) > 0.01 {
		t.Errorf("%.3f of the mask dropped, want 0.25", share)
	}
	again := make([]float32, len(mask))
	DropoutMask(again, 0.25, rand.New(rand.NewPCG(1, 2)))
	for i := range mask {
		if mask[i] != again[i] {
			t.Fatal("the same seed gave another mask")
		}
	}
}

func TestTargetsAndCorrect(t *testing.T) {
	y := []int{2, 0}
	target, scale := make([]float32, 6), make([]float32, 2)
	Targets(target, scale, y, []float32{1, 3}, 3, 0.3)
	want := []float32{0.1, 0.1, 0.8, 0.8, 0.1, 0.1}
	for i := range want {
		if math.Abs(float64(target[i]-want[i])) > 1e-6 {
			t.Fatalf("targets %v, want %v", target, want)
		}
	}
	if scale[0] != 0.5 || scale[1] != 1.5 {
		t.Errorf("scale %v, want the weights over the batch size, [0.5 1.5]", scale)
	}
	probs := []float32{0.1, 0.2, 0.7, 0.3, 0.6, 0.1}
	if n := Correct(probs, y, 3); n != 1 {
		t.Errorf("Correct = %d, want 1", n)
	}
}
