// Package tfjs reads TensorFlow.js layers models: a model.json file holding
// the Keras topology and a weights manifest, beside binary weight shards.
// Float32 weights and the uint8, uint16 and float16 quantised encodings are
// decoded exactly as TensorFlow.js decodes them.
//
// Model folders are untrusted input: shard names must stay inside the
// folder, and every size is checked against the manifest and against limits
// before anything is allocated.
package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/clasifica/clasifica/ml/keras"
)

// Limits on what a model folder may hold. They are far above any image
// classifier Clasifica uses and far below what would exhaust memory.
const (
	maxModelJSON = 64 << 20  // bytes of model.json
	maxWeights   = 1 << 30   // bytes of all shards together
	maxElements  = 256 << 20 // elements of one weight array
)

// Model is a TensorFlow.js layers model.
type Model struct {
	// Dir is the folder the model was read from.
	Dir string
	// KerasVersion is the version of Keras that wrote the topology, if
	// recorded.
	KerasVersion string
	// Layers lists the model's layers in the order of the topology, which
	// is Keras's order of model.layers.
	Layers []LayerInfo
	// Weights holds every weight array of the manifest by its full name
	// ("conv2d_1/kernel").
	Weights map[string]keras.Array
	// order lists manifest names in the order they appear.
	order []string
}

// LayerInfo describes one layer of the topology.
type LayerInfo struct {
	Name   string
	Class  string
	Config json.RawMessage
}

type modelFile struct {
	Format        string          `json:"format"`
	ModelTopology json.RawMessage `json:"modelTopology"`
	Manifest      []struct {
		Paths   []string `json:"paths"`
		Weights []entry  `json:"weights"`
	} `json:"weightsManifest"`
}

type entry struct {
	Name         string `json:"name"`
	Shape        []int  `json:"shape"`
	DType        string `json:"dtype"`
	Quantization *struct {
		DType    string   `json:"dtype"`
		Min      *float64 `json:"min"`
		Scale    *float64 `json:"scale"`
		Original string   `json:"original_dtype"`
	} `json:"quantization"`
}

type topology struct {
	KerasVersion string          `json:"keras_version"`
	ModelConfig  json.RawMessage `json:"model_config"`
	ClassName    string          `json:"class_name"`
	Config       json.RawMessage `json:"config"`
}

type layerJSON struct {
	Name      string          `json:"name"`
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

// Read reads the model whose model.json is in dir.
func Read(dir string) (*Model, error) {
	path := filepath.Join(dir, "model.json")
	data, err := readLimited(path, maxModelJSON)
	if err != nil {
		return nil, err
	}
	var total int64
	return parse(dir, data, func(name string) ([]byte, error) {
		data, err := readLimited(filepath.Join(dir, name), maxWeights-total)
		total += int64(len(data))
		return data, err
	})
}

// parse decodes model.json's bytes, reading weight shards through shard.
func parse(dir string, data []byte, shard func(name string) ([]byte, error)) (*Model, error) {
	path := filepath.Join(dir, "model.json")
	var mf modelFile
	if err := json.Unmarshal(data, &mf); err != nil {
		return nil, fmt.Errorf("read %s: not a TensorFlow.js model: %w", path, err)
	}
	if mf.Format != "" && mf.Format != "layers-model" {
		return nil, fmt.Errorf("read %s: format %q: only TensorFlow.js layers models are supported (graph models carry no Keras topology)", path, mf.Format)
	}
	if len(mf.ModelTopology) == 0 || len(mf.Manifest) == 0 {
		return nil, fmt.Errorf("read %s: no modelTopology or weightsManifest", path)
	}
	m := &Model{Dir: dir, Weights: map[string]keras.Array{}}
	if err := m.readTopology(mf.ModelTopology); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	for gi, group := range mf.Manifest {
		if err := m.readGroup(dir, gi, group.Paths, group.Weights, shard); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Model) readTopology(raw json.RawMessage) error {
	var top topology
	if err := json.Unmarshal(raw, &top); err != nil {
		return fmt.Errorf("modelTopology: %w", err)
	}
	m.KerasVersion = top.KerasVersion
	cfg := top.Config
	if len(top.ModelConfig) > 0 {
		var mc topology
		if err := json.Unmarshal(top.ModelConfig, &mc); err != nil {
			return fmt.Errorf("model_config: %w", err)
		}
		cfg = mc.Config
	}
	if len(cfg) == 0 {
		return errors.New("modelTopology has no model config")
	}
	// Functional models keep layers under config.layers; old Sequential
	// models store the layer list itself as the config.
	var layers []layerJSON
	var withLayers struct {
		Layers []layerJSON `json:"layers"`
	}
	if err := json.Unmarshal(cfg, &withLayers); err == nil && withLayers.Layers != nil {
		layers = withLayers.Layers
	} else if err := json.Unmarshal(cfg, &layers); err != nil {
		return fmt.Errorf("model config has no layer list: %w", err)
	}
	for _, l := range layers {
		name := l.Name
		if name == "" {
			var c struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(l.Config, &c)
			name = c.Name
		}
		m.Layers = append(m.Layers, LayerInfo{Name: name, Class: l.ClassName, Config: l.Config})
	}
	return nil
}

// readGroup decodes one manifest group: its weights are stored back to back
// across the group's shard files, in manifest order.
func (m *Model) readGroup(dir string, gi int, paths []string, entries []entry, shard func(string) ([]byte, error)) error {
	var buf []byte
	for _, p := range paths {
		if !filepath.IsLocal(p) {
			return fmt.Errorf("read %s: weight shard path %q leaves the model folder", dir, p)
		}
		data, err := shard(p)
		if err != nil {
			return err
		}
		if len(buf)+len(data) > maxWeights {
			return fmt.Errorf("read %s: weights over the limit of %d bytes", dir, maxWeights)
		}
		buf = append(buf, data...)
	}
	off := 0
	for _, e := range entries {
		a, n, err := decode(e, buf[off:])
		if err != nil {
			return fmt.Errorf("read %s: weight group %d: %w", dir, gi, err)
		}
		if _, dup := m.Weights[e.Name]; dup {
			return fmt.Errorf("read %s: weight %s appears twice in the manifest", dir, e.Name)
		}
		m.Weights[e.Name] = a
		m.order = append(m.order, e.Name)
		off += n
	}
	if off != len(buf) {
		return fmt.Errorf("read %s: weight group %d: shards hold %d bytes, manifest describes %d", dir, gi, len(buf), off)
	}
	return nil
}

// decode turns the bytes at the front of b into the array e describes and
// reports how many bytes it used.
func decode(e entry, b []byte) (keras.Array, int, error) {
	a := keras.Array{Name: keras.ShortName(e.Name), Shape: append([]int(nil), e.Shape...)}
	n := 1
	for _, d := range e.Shape {
		if d < 0 || (d > 0 && n > maxElements/d) {
			return a, 0, fmt.Errorf("weight %s: shape %v too large", e.Name, e.Shape)
		}
		n *= d
	}
	if e.DType != "float32" {
		return a, 0, fmt.Errorf("weight %s: dtype %q is not supported (want float32)", e.Name, e.DType)
	}
	need := func(width int) error {
		if len(b) < n*width {
			return fmt.Errorf("weight %s: shards end after %d bytes, need %d", e.Name, len(b), n*width)
		}
		a.Data = make([]float32, n)
		return nil
	}
	q := e.Quantization
	if q == nil {
		if err := need(4); err != nil {
			return a, 0, err
		}
		for i := range a.Data {
			a.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return a, 4 * n, nil
	}
	switch q.DType {
	case "uint8", "uint16":
		if q.Min == nil || q.Scale == nil {
			return a, 0, fmt.Errorf("weight %s: %s quantisation without min and scale", e.Name, q.DType)
		}
		// TensorFlow.js computes q*scale+min in float64 (JavaScript
		// numbers) and stores the result in a Float32Array.
		minV, scale := *q.Min, *q.Scale
		if q.DType == "uint8" {
			if err := need(1); err != nil {
				return a, 0, err
			}
			for i := range a.Data {
				a.Data[i] = float32(float64(b[i])*scale + minV)
			}
			return a, n, nil
		}
		if err := need(2); err != nil {
			return a, 0, err
		}
		for i := range a.Data {
			a.Data[i] = float32(float64(binary.LittleEndian.Uint16(b[2*i:]))*scale + minV)
		}
		return a, 2 * n, nil
	case "float16":
		if err := need(2); err != nil {
			return a, 0, err
		}
		for i := range a.Data {
			a.Data[i] = halfToFloat(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return a, 2 * n, nil
	}
	return a, 0, fmt.Errorf("weight %s: quantisation dtype %q is not supported", e.Name, q.DType)
}

// halfToFloat converts an IEEE 754 binary16 value to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: value = frac * 2^-24
		v := float32(frac) * float32(math.Ldexp(1, -24))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// kerasWeightOrder is the order in which Keras layers create their weights,
// which is the order a Keras weight file stores them in.
var kerasWeightOrder = map[string][]string{
	"Conv2D":             {"kernel", "bias"},
	"DepthwiseConv2D":    {"depthwise_kernel", "bias"},
	"Dense":              {"kernel", "bias"},
	"BatchNormalization": {"gamma", "beta", "moving_mean", "moving_variance"},
}

// KerasLayers returns the layers that have weights, in topology order, with
// each layer's weights in the order Keras creates them.
func (m *Model) KerasLayers() ([]keras.Layer, error) {
	used := map[string]bool{}
	var out []keras.Layer
	for _, l := range m.Layers {
		prefix := l.Name + "/"
		var names []string
		for _, n := range m.order {
			if len(n) > len(prefix) && n[:len(prefix)] == prefix {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			continue
		}
		if order, ok := kerasWeightOrder[l.Class]; ok {
			sorted := make([]string, 0, len(names))
			for _, short := range order {
				for _, n := range names {
					if keras.ShortName(n) == short {
						sorted = append(sorted, n)
					}
				}
			}
			if len(sorted) != len(names) {
				return nil, fmt.Errorf("tfjs %s: layer %s (%s) has unexpected weights %v", m.Dir, l.Name, l.Class, names)
			}
			names = sorted
		}
		kl := keras.Layer{Name: l.Name, Class: l.Class}
		for _, n := range names {
			kl.Weights = append(kl.Weights, m.Weights[n])
			used[n] = true
		}
		out = append(out, kl)
	}
	for _, n := range m.order {
		if !used[n] {
			return nil, fmt.Errorf("tfjs %s: weight %s belongs to no layer of the topology", m.Dir, n)
		}
	}
	return out, nil
}

// readLimited reads a whole file, refusing files larger than limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("read %s: %d bytes is over the limit of %d", path, st.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: over the limit of %d bytes", path, limit)
	}
	return data, nil
}
