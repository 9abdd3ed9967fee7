// Package explain shows what a model looked at: Grad-CAM heatmaps
// (Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep
// Networks via Gradient-based Localization").
//
// For the class explained, the gradient of its score (the logit, before
// the softmax) with respect to an inception block's activations weighs
// each activation map by its mean gradient; the weighted sum, clipped at
// zero, is the heatmap: where the evidence for that class lies. The block
// is mixed10 (2048 maps of 8×8) or mixed7 (768 maps of 17×17, the last
// block before mixed8 halves the grid). The gradient comes from a backward
// graph built with ml/grad and run by ONNX Runtime on the engine's
// execution provider: one forward pass of the backbone and one backward
// pass from the block per photo; from mixed7 that pass goes back through
// mixed8's max pool and stride-2 convolutions, mixed9 and mixed10.
//
// Because InceptionV3 averages mixed10 over the 8×8 grid before the head,
// the gradient at mixed10 is the same at every position of a map; Grad-CAM
// there is CAM (Zhou et al. 2016) for the head's linearisation at that
// photo. At mixed7 it varies over the grid.
package explain

import (
	"context"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/grad"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
)

// Layer is an inception block whose activations a heatmap weighs, with
// their grid's side and channels.
type Layer struct {
	Name     string
	Side     int
	Channels int
}

// The layers a heatmap can be made at.
var (
	// Mixed10 is the last block: 2048 maps of 8×8.
	Mixed10 = Layer{Name: "mixed10", Side: 8, Channels: 2048}
	// Mixed7 is the last block at 17×17 (768 maps), before mixed8
	// halves the grid: a finer map, from a gradient that passes back
	// through mixed8 to mixed10.
	Mixed7 = Layer{Name: "mixed7", Side: 17, Channels: 768}
)

// DefaultLayer is the layer New explains at.
var DefaultLayer = Mixed10

// Layers returns the layers a heatmap can be made at.
func Layers() []Layer { return []Layer{Mixed7, Mixed10} }

// LayerNamed returns the layer called name ("mixed7", "mixed10").
func LayerNamed(name string) (Layer, error) {
	for _, l := range Layers() {
		if l.Name == name {
			return l, nil
		}
	}
	return Layer{}, fmt.Errorf("explain: no heatmaps at layer %q (want mixed7 or mixed10)", name)
}

// Value names of the graphs.
const (
	activations = "block_activations"
	featuresOut = "features"
	onehot      = "onehot"
	probsName   = "probs"
)

// Score is the quantity whose gradient a heatmap follows.
type Score int

const (
	// Logit is the class's score before the softmax, as in the Grad-CAM
	// paper: evidence for the class, whatever it also says for others.
	// Clasifica uses it: on the 150 flower photos with the offline test
	// model (and Go's JPEG decoder) its maps at mixed10 passed the
	// deletion test for 95 photos, the log-probability's for 83.
	Logit Score = iota
	// LogProbability is the log of the class's probability: the evidence
	// for the class against the others.
	LogProbability
)

// Options choose what a heatmap shows; the zero value is the default.
type Options struct {
	// Layer is the block explained; zero means DefaultLayer.
	Layer Layer
	// Score is the quantity whose gradient the heatmap follows.
	Score Score
}

// Explainer computes heatmaps for one model on one execution provider.
// It may be used by one goroutine at a time.
type Explainer struct {
	fwd     *onnxrt.MultiSession
	bwd     *onnxrt.MultiSession
	head    *head.Head
	layer   Layer
	classes int
	// sign turns the graph's gradient into the score's.
	sign float64
}

// New builds the explainer of a model on eng (its runtime and execution
// provider, as the classifier's): w are the backbone's weights with the
// model's fine-tuned blocks applied (model.Apply), pre its preprocessing,
// layers its head (reading raw features, as stored in the model).
func New(eng onnxrt.Engine, w *inception.Weights, pre inception.Preprocess, layers []head.Dense) (*Explainer, error) {
	return NewWith(eng, w, pre, layers, Options{})
}

// NewWith is New with the layer and the score the heatmaps follow.
func NewWith(eng onnxrt.Engine, w *inception.Weights, pre inception.Preprocess, layers []head.Dense, o Options) (*Explainer, error) {
	if o.Layer == (Layer{}) {
		o.Layer = DefaultLayer
	}
	if _, err := LayerNamed(o.Layer.Name); err != nil {
		return nil, err
	}
	h, err := head.FromLayers(layers)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	if h.Inputs() != inception.Features {
		return nil, fmt.Errorf("explain: the head reads %d features, InceptionV3 makes %d", h.Inputs(), inception.Features)
	}
	// One forward pass gives the block's activations and the features,
	// whose head's answer is the class explained by default.
	g := onnx.NewGraph("inception_v3_" + o.Layer.Name)
	g.Input(inception.InputName, -1, inception.Size, inception.Size, 3)
	var block string
	y := w.AppendTapped(g, inception.InputName, pre, func(layer, value string) {
		if layer == o.Layer.Name {
			block = value
		}
	})
	g.Node("Identity", activations, []string{block})
	g.Node("Identity", featuresOut, []string{y})
	g.Output(activations, -1, int64(o.Layer.Channels), int64(o.Layer.Side), int64(o.Layer.Side))
	g.Output(featuresOut, -1, inception.Features)
	fwdModel, err := proto.Marshal(g.Model("clasifica", "InceptionV3 (Keras) with "+o.Layer.Name+"'s activations; input RGB 0-255 NHWC, output NCHW", nil, nil))
	if err != nil {
		return nil, fmt.Errorf("explain: build the backbone graph: %w", err)
	}
	fwd, err := eng.NewMultiSession(fwdModel, []string{inception.InputName}, []string{activations, featuresOut})
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	bwdModel, gradOut, err := backward(w, o.Layer, layers, o.Score)
	if err != nil {
		fwd.Close()
		return nil, err
	}
	// The backward graph runs where the backbone does.
	eng.Options.Provider = fwd.Provider()
	bwd, err := eng.NewMultiSession(bwdModel, []string{activations, onehot}, []string{gradOut, probsName})
	if err != nil {
		fwd.Close()
		return nil, fmt.Errorf("explain: %w", err)
	}
	sign := float64(1)
	if o.Score == LogProbability {
		sign = -1
	}
	return &Explainer{fwd: fwd, bwd: bwd, head: h, layer: o.Layer, classes: h.Classes(), sign: sign}, nil
}

// backward builds the graph from the layer's activations to the score:
// the blocks after the layer (none after mixed10; mixed8 to mixed10 after
// mixed7) with their weights as constants, average pooling, the dense
// layers, the score of the one-hot class and its gradient with respect to
// the activations; the probabilities are an output too.
func backward(w *inception.Weights, layer Layer, layers []head.Dense, score Score) ([]byte, string, error) {
	b := grad.NewBuilder("gradcam_" + layer.Name)
	// The activations are a Param so that Backward differentiates them;
	// they are fed like any input.
	a := b.Param(activations, -1, int64(layer.Channels), int64(layer.Side), int64(layer.Side))
	x, err := top(b, w, layer.Name, a)
	if err != nil {
		return nil, "", err
	}
	for i, l := range layers {
		w := b.Const(fmt.Sprintf("dense_%d/kernel", i+1), l.Kernel, int64(l.In), int64(l.Out))
		bias := b.Const(fmt.Sprintf("dense_%d/bias", i+1), l.Bias, int64(l.Out))
		x = b.Dense(x, w, bias)
		if i < len(layers)-1 {
			switch l.Activation {
			case head.ActivationReLU:
				x = b.Relu(x)
			default:
				return nil, "", fmt.Errorf("explain: head layer %d has activation %q", i+1, l.Activation)
			}
		}
	}
	n := int64(layers[len(layers)-1].Out)
	target := b.Input(onehot, -1, n)
	var y string
	if score == Logit {
		y = b.Sum(b.Mul(x, target))
	} else {
		// The cross-entropy with the one-hot class is -log p: its
		// gradient is the negated one wanted; camOf flips the sign.
		one := b.Const("one", []float32{1}, 1, 1)
		y, _ = b.SoftmaxCrossEntropy(x, target, one)
	}
	grads := b.Backward(y)
	b.Graph().Node("Softmax", probsName, []string{x}, onnx.Int("axis", 1))
	b.Graph().Output(probsName, -1, n)
	g := grads[activations]
	b.OutputGrad(activations, g)
	data, err := proto.Marshal(b.Graph().Model("clasifica", "Grad-CAM: gradient of a class score with respect to "+layer.Name, nil, nil))
	if err != nil {
		return nil, "", fmt.Errorf("explain: build the gradient graph: %w", err)
	}
	return data, g, nil
}

// top adds InceptionV3's layers after the layer named from to b, reading
// a (that layer's output), with batch normalisation folded into constant
// convolutions, and returns the pooled features [n, 2048].
func top(b *grad.Builder, w *inception.Weights, from string, a string) (string, error) {
	all := inception.Layers()
	out := make([]string, len(all))
	unit, started := 0, false
	for i, l := range all {
		if !started {
			if l.Kind == inception.Conv {
				unit++
			}
			if l.Name == from {
				started = true
				out[i] = a
			}
			continue
		}
		var in string
		if len(l.Inputs) > 0 {
			in = out[l.Inputs[0]]
		}
		switch l.Kind {
		case inception.Conv:
			u := &w.Units[unit]
			unit++
			pads := [4]int64{}
			if l.Same {
				pads = [4]int64{int64(l.KH-1) / 2, int64(l.KW-1) / 2, int64(l.KH-1) / 2, int64(l.KW-1) / 2}
			}
			fk, fb := u.Folded()
			kernel := b.Const(u.Conv+"/kernel_folded", fk, int64(u.Out), int64(u.In), int64(u.KH), int64(u.KW))
			bias := b.Const(u.Conv+"/bias_folded", fb, int64(u.Out))
			out[i] = b.Conv(in, kernel, bias, grad.ConvAttrs{Strides: [2]int64{int64(l.Stride), int64(l.Stride)}, Pads: pads})
		case inception.BatchNorm:
			out[i] = in // folded into the convolution
		case inception.ReLU:
			out[i] = b.Relu(in)
		case inception.MaxPool:
			out[i] = b.MaxPool(in, int64(l.KH), int64(l.Stride))
		case inception.AvgPool:
			out[i] = b.AveragePool3(in)
		case inception.Concat:
			ins := make([]string, len(l.Inputs))
			for j, k := range l.Inputs {
				ins[j] = out[k]
			}
			out[i] = b.Concat(1, ins...)
		case inception.GlobalAvgPool:
			out[i] = b.Flatten(b.GlobalAveragePool(in))
		default:
			return "", fmt.Errorf("explain: layer %s of kind %d after %s", l.Name, l.Kind, from)
		}
	}
	if !started {
		return "", fmt.Errorf("explain: InceptionV3 has no layer %q", from)
	}
	return out[len(out)-1], nil
}

// Provider reports the execution provider the explainer runs on.
func (e *Explainer) Provider() onnxrt.Provider { return e.fwd.Provider() }

// Close releases the sessions.
func (e *Explainer) Close() error {
	return errors.Join(e.fwd.Close(), e.bwd.Close())
}

// Map is a Grad-CAM heatmap on a grid over the photo.
type Map struct {
	// Rows and Cols are the grid's size; Values holds them row-major,
	// row 0 at the top of the photo, scaled to [0, 1] (1 the strongest
	// evidence; all 0 when nothing speaks for the class).
	Rows, Cols int
	Values     []float64
	// Raw holds the weighted sums before clipping and scaling: negative
	// where a cell speaks against the class. It orders the cells that
	// Values shows as 0.
	Raw []float64
	// Class is the explained class; Probs the model's probabilities for
	// the photo.
	Class int
	Probs []float32
}

// Grid returns the heatmap as rows of numbers, row 0 at the top.
func (m *Map) Grid() [][]float64 {
	g := make([][]float64, m.Rows)
	for r := range g {
		g[r] = m.Values[r*m.Cols : (r+1)*m.Cols]
	}
	return g
}

// Layer returns the layer the explainer's heatmaps are made at.
func (e *Explainer) Layer() Layer { return e.layer }

// Explain returns the heatmap of class for a 299×299 photo (as
// photo.LoadFile returns it); class < 0 explains the most probable one.
func (e *Explainer) Explain(ctx context.Context, p *photo.RGB, class int) (*Map, error) {
	if p.Width != inception.Size || p.Height != inception.Size {
		return nil, fmt.Errorf("explain: photo is %d×%d, want %d×%d", p.Width, p.Height, inception.Size, inception.Size)
	}
	if class >= e.classes {
		return nil, fmt.Errorf("explain: class %d of %d", class, e.classes)
	}
	side, ch := int64(e.layer.Side), int64(e.layer.Channels)
	act := []onnxrt.Tensor{
		{Data: make([]float32, ch*side*side), Shape: []int64{1, ch, side, side}},
		{Data: make([]float32, inception.Features), Shape: []int64{1, inception.Features}},
	}
	img := []onnxrt.Tensor{{Data: p.AppendFloat32(nil, 1, 0), Shape: []int64{1, inception.Size, inception.Size, 3}}}
	if err := e.fwd.Run(ctx, img, act); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	if class < 0 {
		// The head on the features names the most probable class, so
		// one backward pass is enough.
		probs, err := e.head.Predict(act[1].Data)
		if err != nil {
			return nil, fmt.Errorf("explain: %w", err)
		}
		class = 0
		for c, v := range probs {
			if v > probs[class] {
				class = c
			}
		}
	}
	hot := make([]float32, e.classes)
	hot[class] = 1
	out := []onnxrt.Tensor{
		{Data: make([]float32, len(act[0].Data)), Shape: act[0].Shape},
		{Data: make([]float32, e.classes), Shape: []int64{1, int64(e.classes)}},
	}
	in := []onnxrt.Tensor{act[0], {Data: hot, Shape: []int64{1, int64(e.classes)}}}
	if err := e.bwd.Run(ctx, in, out); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	raw := camOf(act[0].Data, out[0].Data, e.layer.Side*e.layer.Side, e.sign)
	return &Map{Rows: e.layer.Side, Cols: e.layer.Side, Values: scaled(raw), Raw: raw, Class: class, Probs: out[1].Data}, nil
}

// camOf is Grad-CAM from the activations and their gradient (both
// [channels, cells]) before clipping: each map weighted by its mean
// gradient (times sign), summed.
func camOf(act, g []float32, cells int, sign float64) []float64 {
	cam := make([]float64, cells)
	for k := range len(act) / cells {
		var alpha float64
		for _, v := range g[k*cells : (k+1)*cells] {
			alpha += float64(v)
		}
		alpha *= sign / float64(cells)
		if alpha == 0 {
			continue
		}
		for i, v := range act[k*cells : (k+1)*cells] {
			cam[i] += alpha * float64(v)
		}
	}
	return cam
}

// scaled clips a raw map at zero and scales it so that its largest value
// is 1.
func scaled(raw []float64) []float64 {
	out := make([]float64, len(raw))
	top := 0.0
	for i, v := range raw {
		out[i] = max(v, 0)
		top = max(top, out[i])
	}
	if top > 0 && !math.IsInf(top, 0) {
		for i := range out {
			out[i] /= top
		}
	}
	return out
}
