package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
)

func TestReadBackbone(t *testing.T) {
	dir := mltest.Backbone(t)
	m, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.KerasVersion != "2.2.4" || len(m.Layers) != 318 || len(m.Weights) != 382 {
		t.Fatalf("keras %s, %d layers, %d weights", m.KerasVersion, len(m.Layers), len(m.Weights))
	}
	layers, err := m.KerasLayers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 191 || layers[0].Name != "conv2d_1" || layers[0].Class != "Conv2D" || layers[1].Name != "batch_normalization_1" {
		t.Fatalf("%d layers with weights, first %s %s", len(layers), layers[0].Name, layers[1].Name)
	}
	bn := layers[1]
	if len(bn.Weights) != 3 || bn.Weights[0].Name != "beta" || bn.Weights[1].Name != "moving_mean" || bn.Weights[2].Name != "moving_variance" {
		t.Fatalf("batch norm weights %+v", bn.Weights)
	}
	// The manifest's first weight is batch_normalization_1/beta, quantised
	// to uint8: its first value is min + q*scale of the shard's first byte.
	raw, err := os.ReadFile(filepath.Join(dir, "group1-shard1of6.bin"))
	if err != nil {
		t.Fatal(err)
	}
	want := float32(float64(raw[0])*0.022262044981414198 + -1.4470329237919228)
	if got := bn.Weights[0].Data[0]; got != want {
		t.Errorf("beta[0] = %v, want %v", got, want)
	}
}

func writeModel(t *testing.T, manifest any, shards map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	mj := map[string]any{
		"format": "layers-model",
		"modelTopology": map[string]any{"class_name": "Sequential", "config": map[string]any{"layers": []any{
			map[string]any{"class_name": "Dense", "config": map[string]any{"name": "dense"}},
		}}},
		"weightsManifest": manifest,
	}
	data, _ := json.Marshal(mj)
	if err := os.WriteFile(filepath.Join(dir, "model.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, b := range shards {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func TestEncodings(t *testing.T) {
	group := func(weights ...map[string]any) []any {
		return []any{map[string]any{"paths": []string{"w.bin"}, "weights": weights}}
	}
	tests := []struct {
		name   string
		weight map[string]any
		shard  []byte
		want   []float32
	}{
		{"float32", map[string]any{"name": "dense/kernel", "shape": []int{3}, "dtype": "float32"},
			f32bytes(1.5, -2, 0.25), []float32{1.5, -2, 0.25}},
		{"uint8", map[string]any{"name": "dense/kernel", "shape": []int{2}, "dtype": "float32",
			"quantization": map[string]any{"dtype": "uint8", "min": -1.0, "scale": 0.5}},
			[]byte{0, 5}, []float32{-1, 1.5}},
		{"uint16", map[string]any{"name": "dense/kernel", "shape": []int{2}, "dtype": "float32",
			"quantization": map[string]any{"dtype": "uint16", "min": 10.0, "scale": 0.001}},
			[]byte{0xe8, 0x03, 0, 0}, []float32{11, 10}},
		{"float16", map[string]any{"name": "dense/kernel", "shape": []int{4}, "dtype": "float32",
			"quantization": map[string]any{"dtype": "float16"}},
			[]byte{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c}, []float32{1, -2, float32(math.Ldexp(1, -24)), float32(math.Inf(1))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Read(writeModel(t, group(tt.weight), map[string][]byte{"w.bin": tt.shard}))
			if err != nil {
				t.Fatal(err)
			}
			got := m.Weights["dense/kernel"].Data
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	w := func(shape []int) map[string]any {
		return map[string]any{"name": "dense/kernel", "shape": shape, "dtype": "float32"}
	}
	tests := []struct {
		name     string
		manifest any
		shards   map[string][]byte
		errHas   string
	}{
		{"shard leaves the folder", []any{map[string]any{"paths": []string{"../x.bin"}, "weights": []any{w([]int{1})}}}, nil, "leaves the model folder"},
		{"missing shard", []any{map[string]any{"paths": []string{"w.bin"}, "weights": []any{w([]int{1})}}}, nil, "no such file"},
		{"short shard", []any{map[string]any{"paths": []string{"w.bin"}, "weights": []any{w([]int{4})}}}, map[string][]byte{"w.bin": f32bytes(1, 2)}, "need 16"},
		{"long shard", []any{map[string]any{"paths": []string{"w.bin"}, "weights": []any{w([]int{1})}}}, map[string][]byte{"w.bin": f32bytes(1, 2)}, "shards hold 8 bytes"},
		{"huge shape", []any{map[string]any{"paths": []string{"w.bin"}, "weights": []any{w([]int{1 << 20, 1 << 20})}}}, map[string][]byte{"w.bin": nil}, "too large"},
		{"negative shape", []any{map[string]any{"paths": []string{"w.bin"}, "weights": []any{w([]int{-1})}}}, map[string][]byte{"w.bin": nil}, "too large"},
		{"int32 weights", []any{map[string]any{"paths": []string{"w.bin"}, "weights": []any{map[string]any{"name": "dense/k", "shape": []int{1}, "dtype": "int32"}}}}, map[string][]byte{"w.bin": f32bytes(1)}, "not supported"},
		{"quantisation without scale", []any{map[string]any{"paths": []string{"w.bin"}, "weights": []any{map[string]any{"name": "dense/k", "shape": []int{1}, "dtype": "float32", "quantization": map[string]any{"dtype": "uint8"}}}}}, map[string][]byte{"w.bin": {1}}, "without min and scale"},
		{"duplicate weight", []any{map[string]any{"paths": []string{"w.bin"}, "weights": []any{w([]int{1}), w([]int{1})}}}, map[string][]byte{"w.bin": f32bytes(1, 2)}, "appears twice"},
		{"no manifest", []any{}, nil, "no modelTopology or weightsManifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(writeModel(t, tt.manifest, tt.shards))
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("error %v, want one containing %q", err, tt.errHas)
			}
		})
	}
	if _, err := Read(t.TempDir()); err == nil || !strings.Contains(err.Error(), "model.json") {
		t.Errorf("empty folder: %v", err)
	}
}

func TestGraphModelRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "model.json"), []byte(`{"format":"graph-model","modelTopology":{},"weightsManifest":[]}`), 0o644)
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "graph models") {
		t.Fatalf("graph model: %v", err)
	}
}

func TestKerasLayersOrphanWeight(t *testing.T) {
	dir := writeModel(t, []any{map[string]any{"paths": []string{"w.bin"}, "weights": []any{
		map[string]any{"name": "other/kernel", "shape": []int{1}, "dtype": "float32"},
	}}}, map[string][]byte{"w.bin": f32bytes(1)})
	m, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.KerasLayers(); err == nil || !strings.Contains(err.Error(), "belongs to no layer") {
		t.Fatalf("orphan weight: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"format":"layers-model","modelTopology":{"class_name":"Sequential","config":{"layers":[{"class_name":"Dense","config":{"name":"dense"}}]}},"weightsManifest":[{"paths":["w.bin"],"weights":[{"name":"dense/kernel","shape":[2],"dtype":"float32","quantization":{"dtype":"uint8","min":-1,"scale":0.5}}]}]}`), []byte{1, 2})
	f.Add([]byte(`{"modelTopology":{"keras_version":"2.2.4","model_config":{"class_name":"Model","config":{"layers":[]}}},"weightsManifest":[{"paths":["w.bin"],"weights":[{"name":"a/b","shape":[1],"dtype":"float32","quantization":{"dtype":"float16"}}]}]}`), []byte{0, 60})
	f.Fuzz(func(t *testing.T, modelJSON, shard []byte) {
		m, err := parse("fuzz", modelJSON, func(string) ([]byte, error) { return shard, nil })
		if err != nil {
			return
		}
		m.KerasLayers()
	})
}
