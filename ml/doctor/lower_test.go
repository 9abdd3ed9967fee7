package doctor

import (
	"os"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// lowerLayer is the layer whose pooled output the stranger tests read:
// the offline test backbone's top layers are tuned to tell kinds of
// nudity apart and put every other photo alike, but its lower layers still
// see texture and colour, as any backbone's do.
const lowerLayer = "mixed2"

// lowerDim is the number of channels of lowerLayer.
const lowerDim = 288

var lowerEngine = sync.OnceValues(func() (*features.Extractor, error) {
	b, err := backbone.Open(os.Getenv("CLASIFICA_TEST_BACKBONE"))
	if err != nil {
		return nil, err
	}
	g := onnx.NewGraph("inception_v3_" + lowerLayer + "_pooled")
	g.Input(inception.InputName, -1, inception.Size, inception.Size, 3)
	y := b.Weights.AppendUntil(g, inception.InputName, b.Preprocess, lowerLayer)
	y = g.Node("GlobalAveragePool", "pooled", []string{y})
	g.Node("Flatten", "lower", []string{y}, onnx.Int("axis", 1))
	g.Output("lower", -1, lowerDim)
	data, err := proto.Marshal(g.Model("clasifica-test", "pooled lower layer", nil, nil))
	if err != nil {
		return nil, err
	}
	rt, err := onnxrt.Load(os.Getenv("ONNXRUNTIME_LIB"))
	if err != nil {
		return nil, err
	}
	s, err := rt.NewSession(data, inception.InputName, "lower", onnxrt.Options{Provider: onnxrt.CPU})
	if err != nil {
		return nil, err
	}
	cache, err := features.OpenCache(cacheDir)
	if err != nil {
		return nil, err
	}
	return &features.Extractor{Session: s, Backbone: b.SHA256 + "-" + lowerLayer, Cache: cache, Dim: lowerDim}, nil
})

// lowerFeatures returns the pooled lowerLayer features of d's photos.
func lowerFeatures(t *testing.T, d *dataset.Dataset) []float32 {
	t.Helper()
	x, err := lowerEngine()
	if err != nil {
		t.Fatal(err)
	}
	return extractAll(t, x, d)
}
