package keras

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// val mirrors val() in testdata/make_fixtures.py.
func val(n, k int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32((i*37+k*11)%101-50) / 8
	}
	return out
}

// fixtureLayers is the model that testdata/make_fixtures.py writes.
func fixtureLayers(classes bool) []Layer {
	layers := []Layer{
		{Name: "conv2d_1", Class: "Conv2D", Weights: []Array{
			{Name: "kernel", Shape: []int{3, 3, 3, 4}, Data: val(108, 0)},
		}},
		{Name: "batch_normalization_1", Class: "BatchNormalization", Weights: []Array{
			{Name: "beta", Shape: []int{4}, Data: val(4, 1)},
			{Name: "moving_mean", Shape: []int{4}, Data: val(4, 2)},
			{Name: "moving_variance", Shape: []int{4}, Data: val(4, 3)},
		}},
		{Name: "dense_1", Class: "Dense", Weights: []Array{
			{Name: "kernel", Shape: []int{4, 2}, Data: val(8, 4)},
			{Name: "bias", Shape: []int{2}, Data: val(2, 5)},
		}},
	}
	if !classes {
		for i := range layers {
			layers[i].Class = ""
		}
	}
	return layers
}

func TestReadH5(t *testing.T) {
	for _, tc := range []struct {
		file    string
		classes bool
	}{
		{"weights_earliest.h5", false}, // superblock 0, fixed-length strings, contiguous
		{"weights_latest.h5", false},   // superblock 3, dense root, split layer_names, gzip, float64, compact
		{"model_saved.h5", true},       // model.save: model_weights group and model_config
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ReadH5File(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			want := fixtureLayers(tc.classes)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, want)
			}
			for _, l := range got {
				for _, a := range l.Weights {
					if err := a.CheckShape(a.Shape...); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
}

func TestReadH5Errors(t *testing.T) {
	for _, tc := range []struct {
		file        string
		want        string
		unsupported bool
	}{
		{
			file: "testdata/missing_weight.h5",
			want: `testdata/missing_weight.h5: keras: layer "dense_1": weight "dense_1/bias:0": hdf5: group /dense_1/dense_1: member "bias:0" not found`,
		},
		{
			file:        "testdata/keras3.weights.h5",
			want:        "testdata/keras3.weights.h5: keras: unsupported: Keras 3 weights layout (layers/<name>/vars), which does not record the order of layers; save the weights with Keras 2 (tf.keras) or use another format",
			unsupported: true,
		},
		{
			file: "../hdf5/testdata/earliest.h5",
			want: `../hdf5/testdata/earliest.h5: keras: not a Keras weights file: no "layer_names" attribute`,
		},
		{
			file: "testdata/make_fixtures.py",
			want: "testdata/make_fixtures.py: keras: hdf5: not an HDF5 file (no superblock signature)",
		},
	} {
		_, err := ReadH5File(tc.file)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error\n %v\nwant\n %s", tc.file, err, tc.want)
			continue
		}
		if errors.Is(err, errors.ErrUnsupported) != tc.unsupported {
			t.Errorf("%s: errors.Is(err, errors.ErrUnsupported) = %v", tc.file, !tc.unsupported)
		}
	}
	if _, err := ReadH5File("testdata/nope.h5"); err == nil || !strings.Contains(err.Error(), "nope.h5") {
		t.Errorf("missing file: %v", err)
	}
}
