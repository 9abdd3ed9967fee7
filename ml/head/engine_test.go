package head

import (
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// testEngine runs training steps on ONNX Runtime's CPU provider with 2
// threads, whatever the machine, so that results are reproducible.
func testEngine(t testing.TB) onnxrt.Engine {
	t.Helper()
	rt, err := onnxrt.Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	return onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: 2}}
}
