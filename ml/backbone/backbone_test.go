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
	// A bare .h5 file has no info file: the nsfwjs weights in one, under
	// any name, are still the test model with its own preprocessing.
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
	js, err := Open(mltest.Backbone(t))
	if err != nil {
		t.Fatal(err)
	}
	if b.Info != js.Info || b.ID != NsfwjsID || b.Preprocess != inception.UnitRange {
		t.Errorf("a bare .h5 of the test weights opens as %+v", b.Info)
	}
	// Other weights are named after their file, with Keras's
	// preprocessing.
	other, err := recognise(nil, "", bare)
	if err != nil || other.ID != "my-weights" || other.Name != "My Weights" || other.Preprocess != inception.KerasImageNet {
		t.Errorf("other weights: %+v, %v", other, err)
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

// TestRecognisedByWeights opens the nsfwjs weights as a user may have
// them: a plain TensorFlow.js folder of another name, without Clasifica's
// InfoFile, or with one that calls them ImageNet. Their weights decide:
// the test model, with its [0, 1] preprocessing.
func TestRecognisedByWeights(t *testing.T) {
	src := mltest.Backbone(t)
	plain := filepath.Join(t.TempDir(), "my-inception")
	if err := os.MkdirAll(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(src, "*"))
	for _, f := range files {
		if filepath.Base(f) == InfoFile {
			continue
		}
		if err := os.Link(f, filepath.Join(plain, filepath.Base(f))); err != nil {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(plain, filepath.Base(f)), data, 0o644)
		}
	}
	check := func(what string) {
		t.Helper()
		b, err := Open(plain)
		if err != nil {
			t.Fatal(err)
		}
		if b.ID != NsfwjsID || b.Name != NsfwjsName || !b.Test || b.Preprocess != inception.UnitRange || b.WeightsSHA256 != NsfwjsWeights ||
			b.SHA256 != Identity(b.Weights, inception.UnitRange) {
			t.Errorf("%s: opened as %+v", what, b.Info)
		}
	}
	check("without an info file")
	if err := WriteInfo(plain, Info{ID: ImageNetID, Name: ImageNetName, Preprocess: inception.KerasImageNet}); err != nil {
		t.Fatal(err)
	}
	check("with an info file that says ImageNet")
}

// TestOwnWeightsAreNotKnown checks that weights Clasifica does not know
// keep their own name and never take a known backbone's id.
func TestOwnWeightsAreNotKnown(t *testing.T) {
	for _, c := range []struct {
		info   *Info
		wantID string
	}{
		{nil, "retrained"},
		{&Info{ID: ImageNetID, Name: ImageNetName, Preprocess: inception.KerasImageNet, Test: true}, ImageNetID + "-own"},
		{&Info{ID: NsfwjsID, Name: NsfwjsName, Preprocess: inception.UnitRange, Test: true}, NsfwjsID + "-own"},
	} {
		got, err := recognise(c.info, "", "/photos/retrained")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != c.wantID || got.Test || strings.Contains(got.Name, "ImageNet") || KnownID(got.ID) {
			t.Errorf("%+v recognised as %+v", c.info, got)
		}
	}
}
