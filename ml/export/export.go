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
	// The graph is float whatever the model's features were computed
	// in: the 8-bit check keeps the two within a cosine of 0.99.
	bb := m.Backbone
	bb.Precision = ""
	return withHead(g, x, m, bb, producer)
}

// Int8 returns the standalone classifier for m on features, the
// backbone's 8-bit feature model (package quant's QDQ form of
// inception's feature model: input "image", output "features"). A model
// with fine-tuned blocks has no 8-bit form: its blocks are float.
func Int8(m *model.Model, features *onnx.ModelProto, producer string) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if len(m.Top) > 0 {
		return nil, fmt.Errorf("export: the model has fine-tuned blocks, which run in float: export it without 8 bits")
	}
	fg := proto.Clone(features.GetGraph()).(*onnx.GraphProto)
	if len(fg.GetInput()) != 1 || fg.GetInput()[0].GetName() != InputName || len(fg.GetOutput()) != 1 {
		return nil, fmt.Errorf("export: the 8-bit feature model's inputs and outputs are not an image model's")
	}
	x := fg.GetOutput()[0].GetName()
	fg.Output = nil
	fg.Name = proto.String("clasifica_classifier")
	bb := m.Backbone
	bb.Precision = "int8"
	return withHead(onnx.WrapGraph(fg), x, m, bb, producer)
}

// withHead appends m's head to g, whose features are x, and returns the
// model with its metadata (bb describing the backbone part).
func withHead(g *onnx.Graph, x string, m *model.Model, bb model.Backbone, producer string) ([]byte, error) {
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
	bbJSON, _ := json.Marshal(bb)
	meta := map[string]string{
		KeyLabels:     string(labels),
		KeyInput:      InputDescription,
		KeyPreprocess: string(pre),
		KeyBackbone:   string(bbJSON),
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
