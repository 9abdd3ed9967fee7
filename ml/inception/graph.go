package inception

import (
	"fmt"

	"github.com/clasifica/clasifica/ml/onnx"
)

// Preprocess is the affine map a backbone applies to 0-255 RGB pixel values
// before its first layer: v*Scale + Offset. It belongs to the weights, not
// to the architecture: weights are only right for the inputs they were
// trained on.
type Preprocess struct {
	Scale  float32 `json:"scale"`
	Offset float32 `json:"offset"`
}

// The preprocessing of the backbones Clasifica knows.
var (
	// KerasImageNet is keras.applications.inception_v3.preprocess_input:
	// x/127.5 - 1, mapping pixels to [-1, 1].
	KerasImageNet = Preprocess{Scale: 1 / 127.5, Offset: -1}
	// UnitRange maps pixels to [0, 1] (x/255), as models fine-tuned with
	// that input scaling (such as nsfwjs) expect.
	UnitRange = Preprocess{Scale: 1.0 / 255, Offset: 0}
)

// Input and output names of the feature-extractor model.
const (
	InputName  = "image"
	OutputName = "features"
)

// Append adds InceptionV3 to g. It reads input, a [batch, 299, 299, 3]
// float32 tensor of RGB pixel values in 0-255 (NHWC, as Keras), and returns
// the name of its [batch, 2048] output, the globally average-pooled
// mixed10 activations. Batch normalisation is folded into the convolutions.
func (w *Weights) Append(g *onnx.Graph, input string, pre Preprocess) string {
	return w.AppendUntil(g, input, pre, "")
}

// Mixed8 names the last layer below the blocks that fine-tuning trains;
// its output is [batch, 1280, 8, 8] (NCHW).
const Mixed8 = "mixed8"

// AppendUntil is Append stopping after the layer named last (all layers
// when last is ""), returning the name of that layer's output, in NCHW
// layout.
func (w *Weights) AppendUntil(g *onnx.Graph, input string, pre Preprocess, last string) string {
	return w.appendLayers(g, input, pre, last, nil)
}

// AppendTapped is Append calling tap with each layer's name and output
// value as it is added, so that a graph can also output inner layers
// (Grad-CAM reads a block's activations and the features in one pass).
func (w *Weights) AppendTapped(g *onnx.Graph, input string, pre Preprocess, tap func(layer, value string)) string {
	return w.appendLayers(g, input, pre, "", tap)
}

// appendLayers is AppendUntil calling tap, if not nil, with each layer's
// name and output value as it is added, so that a graph can also output an
// inner layer.
func (w *Weights) appendLayers(g *onnx.Graph, input string, pre Preprocess, last string, tap func(layer, value string)) string {
	layers := Layers()
	x := g.Node("Mul", "preprocess_scale", []string{input, g.Float("preprocess_scale_value", []float32{pre.Scale})})
	x = g.Node("Add", "preprocess_offset", []string{x, g.Float("preprocess_offset_value", []float32{pre.Offset})})
	x = g.Node("Transpose", "to_nchw", []string{x}, onnx.Ints("perm", 0, 3, 1, 2))

	out := make([]string, len(layers)) // value name each layer produces
	size := make([]int, len(layers))   // spatial side of each layer's output
	unit := 0
	for i, l := range layers {
		var in string
		if len(l.Inputs) > 0 {
			in = out[l.Inputs[0]]
			size[i] = size[l.Inputs[0]]
		}
		switch l.Kind {
		case Input:
			out[i], size[i] = x, Size
		case Conv:
			u := &w.Units[unit]
			unit++
			kernel, bias := u.Folded()
			var pads [4]int64 // top, left, bottom, right
			if l.Same {
				pads = [4]int64{int64(l.KH-1) / 2, int64(l.KW-1) / 2, int64(l.KH-1) / 2, int64(l.KW-1) / 2}
				// Keras "same" pads (k-1)/2 before and the rest after;
				// with stride 1 and odd kernels that is symmetric, which
				// is all InceptionV3 uses.
				if l.Stride != 1 || l.KH%2 == 0 || l.KW%2 == 0 {
					panic(fmt.Sprintf("inception: layer %s: unsupported same padding", l.Name))
				}
			} else {
				size[i] = (size[i]-l.KH)/l.Stride + 1
			}
			out[i] = g.Node("Conv", u.BN, []string{
				in,
				g.Float(u.Conv+"/kernel", kernel, int64(u.Out), int64(u.In), int64(u.KH), int64(u.KW)),
				g.Float(u.Conv+"/bias", bias, int64(u.Out)),
			},
				onnx.Ints("kernel_shape", int64(l.KH), int64(l.KW)),
				onnx.Ints("strides", int64(l.Stride), int64(l.Stride)),
				onnx.Ints("pads", pads[:]...),
			)
		case BatchNorm:
			out[i] = in // folded into the convolution
		case ReLU:
			out[i] = g.Node("Relu", l.Name, []string{in})
		case MaxPool:
			size[i] = (size[i]-l.KH)/l.Stride + 1
			out[i] = g.Node("MaxPool", l.Name, []string{in},
				onnx.Ints("kernel_shape", int64(l.KH), int64(l.KW)),
				onnx.Ints("strides", int64(l.Stride), int64(l.Stride)))
		case AvgPool:
			// Keras "same" average pooling divides by the number of
			// pixels inside the image, as count_include_pad=0 does.
			out[i] = g.Node("AveragePool", l.Name, []string{in},
				onnx.Ints("kernel_shape", int64(l.KH), int64(l.KW)),
				onnx.Ints("strides", 1, 1),
				onnx.Ints("pads", 1, 1, 1, 1),
				onnx.Int("count_include_pad", 0))
		case Concat:
			ins := make([]string, len(l.Inputs))
			for j, k := range l.Inputs {
				ins[j] = out[k]
			}
			out[i] = g.Node("Concat", l.Name, ins, onnx.Int("axis", 1))
		case GlobalAvgPool:
			p := g.Node("GlobalAveragePool", l.Name, []string{in})
			out[i] = g.Node("Flatten", l.Name+"_flat", []string{p}, onnx.Int("axis", 1))
		}
		if tap != nil {
			tap(l.Name, out[i])
		}
		if l.Name == last {
			return out[i]
		}
	}
	return out[len(out)-1]
}

// Mixed8Output is the output name of Mixed8Model.
const Mixed8Output = "mixed8_activations"

// Mixed8Values is the number of mixed8 activations of one photo: 1280
// channels of 8×8.
const Mixed8Values = 1280 * 8 * 8

// Mixed8Model returns the backbone up to mixed8: input "image" as for
// Model, output "mixed8_activations" [batch, 1280·8·8], each photo's
// activations channels first, flattened so that the feature pipeline can
// treat them as one vector per photo.
func (w *Weights) Mixed8Model(pre Preprocess, metadata map[string]string, keys []string) *onnx.ModelProto {
	g := onnx.NewGraph("inception_v3_mixed8")
	g.Input(InputName, -1, Size, Size, 3)
	y := w.AppendUntil(g, InputName, pre, Mixed8)
	g.Node("Flatten", Mixed8Output, []string{y}, onnx.Int("axis", 1))
	g.Output(Mixed8Output, -1, Mixed8Values)
	return g.Model("clasifica", "InceptionV3 (Keras) up to mixed8; input RGB 0-255 NHWC, output NCHW activations flattened", metadata, keys)
}

// Mixed8FeaturesModel returns the whole backbone with two outputs, so that
// one pass gives what fine-tuning needs of a photo: "features" [batch,
// 2048] as Model's, and "mixed8_activations" [batch, 1280·8·8] as
// Mixed8Model's. Running the photos through Model and then Mixed8Model
// would compute everything up to mixed8 twice.
func (w *Weights) Mixed8FeaturesModel(pre Preprocess, metadata map[string]string, keys []string) *onnx.ModelProto {
	g := onnx.NewGraph("inception_v3_features_mixed8")
	g.Input(InputName, -1, Size, Size, 3)
	var m8 string
	y := w.appendLayers(g, InputName, pre, "", func(layer, value string) {
		if layer == Mixed8 {
			m8 = value
		}
	})
	g.Node("Identity", OutputName, []string{y})
	g.Node("Flatten", Mixed8Output, []string{m8}, onnx.Int("axis", 1))
	g.Output(OutputName, -1, Features)
	g.Output(Mixed8Output, -1, Mixed8Values)
	return g.Model("clasifica", "InceptionV3 (Keras, include_top=False, pooling='avg') feature extractor that also outputs mixed8's activations (NCHW, flattened); input RGB 0-255 NHWC", metadata, keys)
}

// Model returns the standalone feature extractor: input "image" [batch, 299,
// 299, 3] RGB pixels in 0-255, output "features" [batch, 2048]. metadata
// (with keys listed in keys, in that order) is stored in the model.
func (w *Weights) Model(pre Preprocess, metadata map[string]string, keys []string) *onnx.ModelProto {
	g := onnx.NewGraph("inception_v3_features")
	g.Input(InputName, -1, Size, Size, 3)
	y := w.Append(g, InputName, pre)
	g.Node("Identity", OutputName, []string{y})
	g.Output(OutputName, -1, Features)
	return g.Model("clasifica", "InceptionV3 (Keras, include_top=False, pooling='avg') feature extractor; input RGB 0-255 NHWC", metadata, keys)
}
