package head_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// Example trains a head with class weights and early stopping on the
// validation loss, restoring the best weights at the end.
func Example() {
	const inputs, classes = 16, 3
	xTrain, yTrain := samples(1, 300, inputs, classes)
	xVal, yVal := samples(2, 90, inputs, classes)

	cfg := head.DefaultConfig()
	cfg.Hidden = 32
	cfg.Seed = 7
	h, err := head.New(inputs, classes, cfg)
	if err != nil {
		log.Fatal(err)
	}
	// Training steps run on ONNX Runtime, loaded from its library.
	rt, err := onnxrt.Load(runtimeLibrary())
	if err != nil {
		log.Fatal(err)
	}
	tr, err := head.NewTrainer(h, cfg, onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU}})
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()
	cw, err := head.BalancedClassWeights(yTrain, classes)
	if err != nil {
		log.Fatal(err)
	}
	w, err := head.SampleWeights(yTrain, cw)
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	best, bestLoss, patience := h.Clone(), 1e300, 0
	for epoch := 0; epoch < 100 && patience < 5; epoch++ {
		if _, err := tr.Epoch(ctx, xTrain, yTrain, w); err != nil {
			log.Fatal(err)
		}
		loss, _, err := h.Evaluate(xVal, yVal, nil)
		if err != nil {
			log.Fatal(err)
		}
		if loss < bestLoss {
			best, bestLoss, patience = h.Clone(), loss, 0
		} else {
			patience++
		}
	}
	if err := h.CopyFrom(best); err != nil {
		log.Fatal(err)
	}
	_, acc, err := h.Evaluate(xVal, yVal, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("validation accuracy %.2f\n", acc)
	// Output: validation accuracy 1.00
}

// samples returns n points around classes fixed centres (the same for every
// seed), labelled by centre.
func samples(seed uint64, n, inputs, classes int) ([]float32, []int) {
	centres := rand.New(rand.NewPCG(0, 0))
	c := make([]float64, classes*inputs)
	for i := range c {
		c[i] = 3 * centres.NormFloat64()
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	x := make([]float32, n*inputs)
	y := make([]int, n)
	for r := range y {
		y[r] = r % classes
		for j := range inputs {
			x[r*inputs+j] = float32(c[y[r]*inputs+j] + rng.NormFloat64())
		}
	}
	return x, y
}

// runtimeLibrary is where the example finds ONNX Runtime: $ONNXRUNTIME_LIB
// (`make test` sets it), else where `make deps` puts it.
func runtimeLibrary() string {
	if p := os.Getenv("ONNXRUNTIME_LIB"); p != "" {
		return p
	}
	return filepath.Join("..", "..", ".deps", "onnxruntime", "libonnxruntime.so.1")
}
