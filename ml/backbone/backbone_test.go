package backbone

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
)

// TestH5EqualsTFJS opens the offline backbone from its TensorFlow.js folder
// and from the Keras .h5 file written from it: the weights, the identity,
// the ONNX graph and the features must all be identical, bit for bit.
func TestH5EqualsTFJS(t *testing.T) {
	js, err := Open(mltest.Backbone(t))
	if err != nil {
		t.Fatal(err)
	}
	h5, err := Open(mltest.BackboneH5(t))
	if err != nil {
		t.Fatal(err)
	}
	if js.ID != "nsfwjs-inceptionv3" || js.Preprocess != inception.UnitRange || js.Ignored != 3 || len(js.SHA256) != 64 {
		t.Fatalf("TF.js backbone info %+v, ignored %d", js.Info, js.Ignored)
	}
	if h5.Info != js.Info || h5.Ignored != js.Ignored {
		t.Fatalf("h5 info %+v, TF.js info %+v", h5.Info, js.Info)
	}
	for i := range js.Weights.Units {
		a, b := js.Weights.Units[i], h5.Weights.Units[i]
		if !slices.Equal(a.Kernel, b.Kernel) || !slices.Equal(a.Beta, b.Beta) || !slices.Equal(a.Mean, b.Mean) || !slices.Equal(a.Variance, b.Variance) {
			t.Fatalf("unit %d (%s) differs", i, a.Conv)
		}
	}
	mj, err := js.FeatureModel()
	if err != nil {
		t.Fatal(err)
	}
	mh, err := h5.FeatureModel()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mj, mh) {
		t.Fatal("the ONNX feature models differ")
	}
	rt, err := onnxrt.Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	var in []float32
	for _, p := range []string{"pets/beagle/beagle_10.jpg", "flowers/daisy/100080576_f52e8ee070_n.jpg"} {
		px, err := photo.LoadFile(mltest.Photos(t, p), inception.Size, photo.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		in = px.AppendFloat32(in, 1, 0)
	}
	var outs [2][]float32
	for i, m := range [][]byte{mj, mh} {
		s, err := rt.NewSession(m, inception.InputName, inception.OutputName, onnxrt.Options{Provider: onnxrt.CPU})
		if err != nil {
			t.Fatal(err)
		}
		if outs[i], err = s.Run(context.Background(), in, 2, inception.Size, inception.Size, 3); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if !slices.Equal(outs[0], outs[1]) {
		t.Fatal("features from the .h5 file differ from those of the TF.js folder")
	}
}

func TestOpenDefaults(t *testing.T) {
	// A bare .h5 file has no info file: it is taken to be a Keras
	// InceptionV3 with Keras's preprocessing, named after the file.
	dir := t.TempDir()
	bare := filepath.Join(dir, "My Weights.h5")
	data, err := os.ReadFile(filepath.Join(mltest.BackboneH5(t), "weights.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bare, data, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := Open(bare)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != "my-weights" || b.Preprocess != inception.KerasImageNet || b.Name != "My Weights" {
		t.Errorf("defaults %+v", b.Info)
	}
	js, err := Open(mltest.Backbone(t))
	if err != nil {
		t.Fatal(err)
	}
	if b.SHA256 == js.SHA256 {
		t.Error("other preprocessing, same identity")
	}
}

func TestOpenErrors(t *testing.T) {
	empty := t.TempDir()
	badInfo := t.TempDir()
	os.WriteFile(filepath.Join(badInfo, InfoFile), []byte(`{"id":"../x","preprocess":{"scale":1}}`), 0o644)
	notInception := filepath.Join(mltest.Root(t), "ml", "keras", "testdata", "weights_earliest.h5")
	tests := []struct {
		name, path, errHas string
	}{
		{"missing", filepath.Join(empty, "nope"), "no such file"},
		{"empty folder", empty, "neither model.json"},
		{"bad info file", badInfo, "not a usable name"},
		{"not an InceptionV3", notInception, "not the InceptionV3"},
		{"not HDF5", filepath.Join(mltest.Root(t), "go.mod"), "hdf5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("error %v, want one containing %q", err, tt.errHas)
			}
		})
	}
}
