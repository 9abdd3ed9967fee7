// Package export writes a trained classifier as one standalone ONNX model
// that plain ONNX Runtime (or any ONNX runtime) runs with no Clasifica code:
// the backbone and the head in a single graph, from image pixels to class
// probabilities, with the labels and preprocessing in its metadata.
package export

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnx"
	"google.golang.org/protobuf/proto"
)

// Names of the exported model's input and output.
const (
	InputName  = "image"
	OutputName = "probabilities"
)

// Metadata keys of the exported model.
const (
	KeyLabels     = "labels"     // JSON array of the class names, in output order
	KeyInput      = "input"      // plain-words description of the input tensor
	KeyPreprocess = "preprocess" // JSON {"scale":…, "offset":…} applied inside the graph
	KeyBackbone   = "backbone"   // JSON of the model's backbone
	KeyProducer   = "producer"
)

// InputDescription documents the exported model's input.
const InputDescription = "float32 tensor [batch, 299, 299, 3]: RGB photos resized to 299x299 (the whole photo squashed, as Keras load_img(target_size=(299, 299)) does), pixel values 0-255 in NHWC order; the backbone's scaling is applied inside the graph"

// ONNX returns the standalone classifier for m with backbone weights w
// (with m's fine-tuned blocks, if any, in place of w's).
func ONNX(m *model.Model, w *inception.Weights, producer string) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	w, err := m.Apply(w)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	g := onnx.NewGraph("clasifica_classifier")
	g.Input(InputName, -1, inception.Size, inception.Size, 3)
	x := w.Append(g, InputName, m.Backbone.Preprocess)
	for i, l := range m.Head {
		name := fmt.Sprintf("dense_%d", i+1)
		k := g.Float(name+"/kernel", l.Kernel, int64(l.In), int64(l.Out))
		b := g.Float(name+"/bias", l.Bias, int64(l.Out))
		x = g.Node("Gemm", name, []string{x, k, b})
		switch l.Activation {
		case head.ActivationReLU:
			x = g.Node("Relu", name+"_relu", []string{x})
		case head.ActivationSoftmax:
			x = g.Node("Softmax", name+"_softmax", []string{x}, onnx.Int("axis", 1))
		default:
			return nil, fmt.Errorf("export: layer %d has activation %q", i+1, l.Activation)
		}
	}
	g.Node("Identity", OutputName, []string{x})
	g.Output(OutputName, -1, int64(len(m.Labels)))

	labels, _ := json.Marshal(m.Labels)
	pre, _ := json.Marshal(m.Backbone.Preprocess)
	bb, _ := json.Marshal(m.Backbone)
	meta := map[string]string{
		KeyLabels:     string(labels),
		KeyInput:      InputDescription,
		KeyPreprocess: string(pre),
		KeyBackbone:   string(bb),
		KeyProducer:   producer,
	}
	keys := []string{KeyLabels, KeyInput, KeyPreprocess, KeyBackbone, KeyProducer}
	doc := fmt.Sprintf("Clasifica photo classifier: %s. Output %q: class probabilities in the order of the %q metadata.",
		strings.Join(m.Labels, ", "), OutputName, KeyLabels)
	data, err := proto.Marshal(g.Model(producer, doc, meta, keys))
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return data, nil
}

// Labels returns the labels file written beside an export: one class name
// per line, in output order.
func Labels(m *model.Model) []byte {
	return []byte(strings.Join(m.Labels, "\n") + "\n")
}
