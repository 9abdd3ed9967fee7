package export

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
	"google.golang.org/protobuf/proto"
)

// TestExport runs the exported model in ONNX Runtime and compares it with
// the backbone's features fed to the head in Go.
func TestExport(t *testing.T) {
	b, err := backbone.Open(mltest.Backbone(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, hidden := range []int{0, 64} {
		cfg := head.DefaultConfig()
		cfg.Hidden, cfg.Seed = hidden, 5
		h, err := head.New(inception.Features, 3, cfg)
		if err != nil {
			t.Fatal(err)
		}
		layers := h.Layers()
		// Random biases make the check sharper than Keras's zeros.
		r := rand.New(rand.NewPCG(1, 2))
		for i := range layers {
			for j := range layers[i].Bias {
				layers[i].Bias[j] = r.Float32() - 0.5
			}
		}
		if h, err = head.FromLayers(layers); err != nil {
			t.Fatal(err)
		}
		m := &model.Model{Meta: model.Meta{
			Labels: []string{"cat", "dog", "señal"},
			Backbone: model.Backbone{ID: b.ID, Name: b.Name, SHA256: b.SHA256,
				Preprocess: b.Preprocess, ImageSize: inception.Size},
		}, Head: layers}
		data, err := ONNX(m, b.Weights, "test")
		if err != nil {
			t.Fatal(err)
		}
		var mp onnx.ModelProto
		if err := proto.Unmarshal(data, &mp); err != nil {
			t.Fatal(err)
		}
		meta := map[string]string{}
		for _, p := range mp.MetadataProps {
			meta[p.GetKey()] = p.GetValue()
		}
		var labels []string
		if err := json.Unmarshal([]byte(meta[KeyLabels]), &labels); err != nil || len(labels) != 3 || labels[2] != "señal" {
			t.Fatalf("labels metadata %q", meta[KeyLabels])
		}
		if meta[KeyInput] != InputDescription || meta[KeyPreprocess] == "" {
			t.Errorf("metadata %v", meta)
		}

		rt, err := onnxrt.Load(mltest.RuntimeLibrary(t))
		if err != nil {
			t.Fatal(err)
		}
		var in []float32
		for _, p := range []string{"pets/Bengal/Bengal_107.jpg", "flowers/rose/12240303_80d87f77a3_n.jpg"} {
			px, err := photo.LoadFile(mltest.Photos(t, p), inception.Size, photo.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			in = px.AppendFloat32(in, 1, 0)
		}
		sExp, err := rt.NewSession(data, InputName, OutputName, onnxrt.Options{Provider: onnxrt.CPU})
		if err != nil {
			t.Fatal(err)
		}
		got, err := sExp.Run(context.Background(), in, 2, inception.Size, inception.Size, 3)
		sExp.Close()
		if err != nil {
			t.Fatal(err)
		}
		fm, err := b.FeatureModel()
		if err != nil {
			t.Fatal(err)
		}
		sFeat, err := rt.NewSession(fm, inception.InputName, inception.OutputName, onnxrt.Options{Provider: onnxrt.CPU})
		if err != nil {
			t.Fatal(err)
		}
		feats, err := sFeat.Run(context.Background(), in, 2, inception.Size, inception.Size, 3)
		sFeat.Close()
		if err != nil {
			t.Fatal(err)
		}
		want, err := h.Predict(feats)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-5 {
				t.Fatalf("hidden %d: exported model gives %v, backbone + head %v", hidden, got, want)
			}
		}
	}
}
