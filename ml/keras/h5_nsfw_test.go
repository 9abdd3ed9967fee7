package keras

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
)

// TestReadH5NSFW reads the full-size InceptionV3 of nsfwjs, converted from
// its TensorFlow.js folder by tools/keras-h5-from-tfjs.py, from the file
// `make test-deps` writes. The expected values are those h5py reads
// from that file (and that the TensorFlow.js dequantisation gives).
func TestReadH5NSFW(t *testing.T) {
	path := filepath.Join(mltest.BackboneH5(t), "weights.h5")
	layers, err := ReadH5File(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 94+94+3 {
		t.Fatalf("%d layers with weights, want 191", len(layers))
	}
	var names []string
	count := map[string]int{}
	for _, l := range layers {
		names = append(names, l.Name)
		var short []string
		for _, w := range l.Weights {
			short = append(short, w.Name)
			if err := w.CheckShape(w.Shape...); err != nil {
				t.Errorf("layer %s: %v", l.Name, err)
			}
		}
		kind, want := "", []string(nil)
		switch {
		case strings.HasPrefix(l.Name, "conv2d_"):
			kind, want = "conv2d", []string{"kernel"}
		case strings.HasPrefix(l.Name, "batch_normalization_"):
			kind, want = "batch_normalization", []string{"beta", "moving_mean", "moving_variance"}
		case strings.HasPrefix(l.Name, "dense_"):
			kind, want = "dense", []string{"kernel", "bias"}
		}
		count[kind]++
		if !reflect.DeepEqual(short, want) {
			t.Errorf("layer %s has weights %v, want %v", l.Name, short, want)
		}
	}
	if count["conv2d"] != 94 || count["batch_normalization"] != 94 || count["dense"] != 3 {
		t.Errorf("layer counts %v", count)
	}
	// Keras orders a functional model's layers by depth, not by name.
	head := []string{"conv2d_1", "batch_normalization_1", "conv2d_2", "batch_normalization_2",
		"conv2d_3", "batch_normalization_3", "conv2d_4", "batch_normalization_4",
		"conv2d_5", "batch_normalization_5", "conv2d_9", "batch_normalization_9", "conv2d_7", "conv2d_10"}
	tail := []string{"batch_normalization_88", "batch_normalization_89", "batch_normalization_92",
		"batch_normalization_93", "conv2d_94", "batch_normalization_86", "batch_normalization_94",
		"dense_1", "dense_2", "dense_3"}
	if !reflect.DeepEqual(names[:len(head)], head) || !reflect.DeepEqual(names[len(names)-len(tail):], tail) {
		t.Errorf("layer order\n%v ...\n%v", names[:len(head)], names[len(names)-len(tail):])
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("layer %s twice", n)
		}
		seen[n] = true
	}
	for k := 1; k <= 94; k++ {
		for _, n := range []string{fmt.Sprintf("conv2d_%d", k), fmt.Sprintf("batch_normalization_%d", k)} {
			if !seen[n] {
				t.Errorf("no layer %s", n)
			}
		}
	}

	byName := map[string]*Layer{}
	for i := range layers {
		byName[layers[i].Name] = &layers[i]
	}
	for _, tc := range []struct {
		layer, weight string
		shape         []int
		first         []float32 // first values
		last          float32
	}{
		{"conv2d_1", "kernel", []int{3, 3, 3, 32}, []float32{-0.47534555196762085, -0.044965121895074844, -0.012847176752984524}, 0.17986048758029938},
		{"batch_normalization_1", "beta", []int{32}, []float32{0.20035840570926666, -1.4025088548660278, 1.2466745376586914}, -0.6455993056297302},
		{"batch_normalization_1", "moving_variance", []int{32}, []float32{0.08344265818595886, 0.03918777033686638, 0.07941948622465134}, 0.0029792252462357283},
		{"conv2d_94", "kernel", []int{1, 1, 2048, 192}, []float32{0.042878225445747375, -0.004764247220009565, 0.011910618282854557}, -0.05955309048295021},
		{"batch_normalization_94", "moving_mean", []int{192}, []float32{0.02101685106754303, 0.025220222771167755, 0.10928762704133987}, 0.21437188982963562},
		{"dense_1", "kernel", []int{2048, 256}, []float32{0, -0.0033826297149062157, 0}, 0},
		{"dense_1", "bias", []int{256}, []float32{-0.014952224679291248, 0.12858912348747253, -0.020933113992214203}, -0.19437891244888306},
		{"dense_3", "kernel", []int{128, 5}, []float32{-0.27248796820640564, 0.08313192427158356, -0.27248796820640564}, 0.30019861459732056},
		{"dense_3", "bias", []int{5}, []float32{0.3926010727882385, 0.3310166001319885, 0.24248890578746796}, -0.5889016389846802},
	} {
		l := byName[tc.layer]
		if l == nil {
			t.Errorf("no layer %s", tc.layer)
			continue
		}
		a := l.Weight(tc.weight)
		if a == nil {
			t.Errorf("layer %s has no %s", tc.layer, tc.weight)
			continue
		}
		if err := a.CheckShape(tc.shape...); err != nil {
			t.Errorf("layer %s: %v", tc.layer, err)
			continue
		}
		if !reflect.DeepEqual(a.Data[:len(tc.first)], tc.first) || a.Data[len(a.Data)-1] != tc.last {
			t.Errorf("%s/%s: values %v ... %v, want %v ... %v", tc.layer, tc.weight,
				a.Data[:len(tc.first)], a.Data[len(a.Data)-1], tc.first, tc.last)
		}
	}
}

func BenchmarkReadH5NSFW(b *testing.B) {
	path := filepath.Join(mltest.BackboneH5(b), "weights.h5")
	for b.Loop() {
		if _, err := ReadH5File(path); err != nil {
			b.Fatal(err)
		}
	}
}
