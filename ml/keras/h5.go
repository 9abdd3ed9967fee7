package keras

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/clasifica/clasifica/ml/hdf5"
)

// MaxH5Bytes bounds the weights ReadH5 decodes from one file, in bytes of
// float32. The largest Keras application models hold about 1.4 GB.
const MaxH5Bytes = 4 << 30

// ReadH5File reads the weights of the Keras HDF5 file at path, as ReadH5
// does.
func ReadH5File(path string) ([]Layer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	layers, err := ReadH5(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return layers, nil
}

// ReadH5 reads the weights of a Keras 2 HDF5 file, which is size bytes
// long: either a weights file written by model.save_weights (such as the
// keras.applications downloads) or a whole model written by model.save,
// whose weights are in its "model_weights" group.
//
// Such a file lists the model's layers, in order, in the root attribute
// "layer_names" (split into "layer_names0", "layer_names1", ... when
// large); each layer is a group whose attribute "weight_names" lists its
// weights, stored as datasets at those paths inside the group. ReadH5
// returns the layers that have weights, in model order, each weight
// converted to float32. Layer.Class is set only for model.save files,
// whose "model_config" records it.
//
// Keras 3 ".weights.h5" files, which keep weights under
// layers/<name>/vars/<index> with no layer order, are reported as
// unsupported.
func ReadH5(r io.ReaderAt, size int64) ([]Layer, error) {
	return readH5(r, size, hdf5.Limits{}, MaxH5Bytes)
}

func readH5(r io.ReaderAt, size int64, lim hdf5.Limits, maxTotal int64) ([]Layer, error) {
	f, err := hdf5.OpenLimits(r, size, lim)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	root := f.Root()
	g := root
	names, ok, err := stringList(g, "layer_names")
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	if !ok {
		if mw, err := root.Group("model_weights"); err == nil {
			g = mw
			names, ok, err = stringList(g, "layer_names")
			if err != nil {
				return nil, fmt.Errorf("keras: %w", err)
			}
		}
	}
	if !ok {
		for _, k3 := range []string{"layers", "_layer_checkpoint_dependencies"} {
			if _, err := root.Group(k3); err == nil {
				return nil, unsupportedError(fmt.Sprintf("keras: unsupported: Keras 3 weights layout (%s/<name>/vars), which does not record the order of layers; save the weights with Keras 2 (tf.keras) or use another format", k3))
			}
		}
		return nil, errors.New(`keras: not a Keras weights file: no "layer_names" attribute`)
	}
	classes := layerClasses(root)
	var layers []Layer
	total := int64(0)
	for _, name := range names {
		lg, err := g.Group(name)
		if err != nil {
			return nil, fmt.Errorf("keras: layer %q: %w", name, err)
		}
		weights, _, err := stringList(lg, "weight_names")
		if err != nil {
			return nil, fmt.Errorf("keras: layer %q: %w", name, err)
		}
		if len(weights) == 0 {
			continue
		}
		l := Layer{Name: name, Class: classes[name]}
		for _, wn := range weights {
			d, err := lg.Dataset(wn)
			if err != nil {
				return nil, fmt.Errorf("keras: layer %q: weight %q: %w", name, wn, err)
			}
			if total += int64(d.Len()) * 4; total > maxTotal {
				return nil, fmt.Errorf("keras: layer %q: weight %q: weights of more than %d bytes in all", name, wn, maxTotal)
			}
			data, err := d.Float32s()
			if err != nil {
				return nil, fmt.Errorf("keras: layer %q: weight %q: %w", name, wn, err)
			}
			l.Weights = append(l.Weights, Array{Name: ShortName(wn), Shape: d.Shape(), Data: data})
		}
		layers = append(layers, l)
	}
	return layers, nil
}

// unsupportedError is an error that wraps errors.ErrUnsupported.
type unsupportedError string

func (e unsupportedError) Error() string { return string(e) }
func (e unsupportedError) Unwrap() error { return errors.ErrUnsupported }

// stringList reads a list of strings that Keras stores in the attribute
// name of g or, when it is large, in the attributes name0, name1, ... It
// reports whether any of them exists. An empty attribute of any datatype
// is an empty list: Keras stores [] for a layer without weights, which
// h5py writes as float64.
func stringList(g *hdf5.Group, name string) ([]string, bool, error) {
	read := func(n string) ([]string, bool, error) {
		a, err := g.Attr(n)
		if errors.Is(err, hdf5.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if a.Len() == 0 {
			return nil, true, nil
		}
		s, err := a.Strings()
		return s, true, err
	}
	if s, ok, err := read(name); ok || err != nil {
		return s, ok, err
	}
	var all []string
	found := false
	for i := 0; ; i++ {
		s, ok, err := read(fmt.Sprintf("%s%d", name, i))
		if err != nil {
			return nil, false, err
		}
		if !ok {
			break
		}
		found = true
		all = append(all, s...)
	}
	return all, found, nil
}

// layerClasses maps layer names to Keras class names from the JSON
// "model_config" attribute that model.save writes. It is informational:
// a missing or unreadable configuration gives an empty map.
func layerClasses(root *hdf5.Group) map[string]string {
	a, err := root.Attr("model_config")
	if err != nil {
		return nil
	}
	s, err := a.Strings()
	if err != nil || len(s) != 1 {
		return nil
	}
	type layerConfig struct {
		ClassName string `json:"class_name"`
		Name      string `json:"name"`
		Config    struct {
			Name string `json:"name"`
		} `json:"config"`
	}
	var cfg struct {
		Config json.RawMessage `json:"config"`
	}
	if json.Unmarshal([]byte(s[0]), &cfg) != nil {
		return nil
	}
	// Functional models have {"layers": [...]}; old Sequential models a
	// bare list.
	var layers []layerConfig
	var withLayers struct {
		Layers []layerConfig `json:"layers"`
	}
	if json.Unmarshal(cfg.Config, &withLayers) == nil {
		layers = withLayers.Layers
	} else if json.Unmarshal(cfg.Config, &layers) != nil {
		return nil
	}
	classes := make(map[string]string)
	for _, l := range layers {
		name := l.Config.Name
		if name == "" {
			name = l.Name
		}
		if name != "" && l.ClassName != "" {
			classes[name] = l.ClassName
		}
	}
	return classes
}
