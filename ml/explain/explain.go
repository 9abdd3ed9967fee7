// Package explain shows what a model looked at: Grad-CAM heatmaps
// (Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep
// Networks via Gradient-based Localization").
//
// For the class explained, the gradient of its score (the logit, before
// the softmax) with respect to the last inception block's activations
// (mixed10, 2048 maps of 8×8) weighs each map by its mean gradient; the
// weighted sum, clipped at zero, is the heatmap: where the evidence for
// that class lies. The gradient comes from a backward graph built with
// ml/grad and run by ONNX Runtime on the engine's execution provider: one
// forward pass of the backbone to mixed10 and one backward pass of the
// head per photo.
//
// Because InceptionV3 averages mixed10 over the 8×8 grid before the head,
// the gradient is the same at every position of a map; Grad-CAM is then
// CAM (Zhou et al. 2016) for the head's linearisation at that photo.
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

// Layer is the block whose activations are explained, and its grid.
const (
	Layer    = "mixed10"
	Side     = 8
	channels = 2048
)

// Value names of the graphs.
const (
	activations = "mixed10_activations"
	onehot      = "onehot"
	probsName   = "probs"
)

// Score is the quantity whose gradient a heatmap follows.
type Score int

const (
	// Logit is the class's score before the softmax, as in the Grad-CAM
	// paper: evidence for the class, whatever it also says for others.
	// Clasifica uses it: on the 150 flower photos with the offline test
	// model its maps passed the deletion test for 95 photos, the
	// log-probability's for 83.
	Logit Score = iota
	// LogProbability is the log of the class's probability: the evidence
	// for the class against the others.
	LogProbability
)

// Explainer computes heatmaps for one model on one execution provider.
// It may be used by one goroutine at a time.
type Explainer struct {
	fwd     *onnxrt.Session
	bwd     *onnxrt.MultiSession
	head    *head.Head
	classes int
	// sign turns the graph's gradient into the score's.
	sign float64
}

// New builds the explainer of a model on eng (its runtime and execution
// provider, as the classifier's): w are the backbone's weights with the
// model's fine-tuned blocks applied (model.Apply), pre its preprocessing,
// layers its head (reading raw features, as stored in the model).
func New(eng onnxrt.Engine, w *inception.Weights, pre inception.Preprocess, layers []head.Dense) (*Explainer, error) {
	return NewWithScore(eng, w, pre, layers, Logit)
}

// NewWithScore is New with the score the heatmaps follow.
func NewWithScore(eng onnxrt.Engine, w *inception.Weights, pre inception.Preprocess, layers []head.Dense, score Score) (*Explainer, error) {
	h, err := head.FromLayers(layers)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	if h.Inputs() != channels {
		return nil, fmt.Errorf("explain: the head reads %d features, InceptionV3 makes %d", h.Inputs(), channels)
	}
	g := onnx.NewGraph("inception_v3_mixed10")
	g.Input(inception.InputName, -1, inception.Size, inception.Size, 3)
	y := w.AppendUntil(g, inception.InputName, pre, Layer)
	g.Node("Identity", activations, []string{y})
	g.Output(activations, -1, channels, Side, Side)
	fwdModel, err := proto.Marshal(g.Model("clasifica", "InceptionV3 (Keras) up to mixed10; input RGB 0-255 NHWC, output NCHW", nil, nil))
	if err != nil {
		return nil, fmt.Errorf("explain: build the backbone graph: %w", err)
	}
	fwd, err := eng.NewSession(fwdModel, inception.InputName, activations)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	bwdModel, gradOut, err := backward(layers, score)
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
	if score == LogProbability {
		sign = -1
	}
	return &Explainer{fwd: fwd, bwd: bwd, head: h, classes: h.Classes(), sign: sign}, nil
}

// backward builds the head's graph from mixed10: average pooling, the
// dense layers, the score of the one-hot class and its gradient with
// respect to the activations; the probabilities are an output too.
func backward(layers []head.Dense, score Score) ([]byte, string, error) {
	b := grad.NewBuilder("gradcam_head")
	// The activations are a Param so that Backward differentiates them;
	// they are fed like any input.
	a := b.Param(activations, -1, channels, Side, Side)
	x := b.Flatten(b.GlobalAveragePool(a))
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
	data, err := proto.Marshal(b.Graph().Model("clasifica", "Grad-CAM: gradient of a class score with respect to mixed10", nil, nil))
	if err != nil {
		return nil, "", fmt.Errorf("explain: build the gradient graph: %w", err)
	}
	return data, g, nil
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

// Explain returns the heatmap of class for a 299×299 photo (as
// photo.LoadFile returns it); class < 0 explains the most probable one.
func (e *Explainer) Explain(ctx context.Context, p *photo.RGB, class int) (*Map, error) {
	if p.Width != inception.Size || p.Height != inception.Size {
		return nil, fmt.Errorf("explain: photo is %d×%d, want %d×%d", p.Width, p.Height, inception.Size, inception.Size)
	}
	if class >= e.classes {
		return nil, fmt.Errorf("explain: class %d of %d", class, e.classes)
	}
	act, err := e.fwd.Run(ctx, p.AppendFloat32(nil, 1, 0), 1, inception.Size, inception.Size, 3)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	if class < 0 {
		// The head on the pooled activations names the most probable
		// class, so one backward pass is enough.
		probs, err := e.head.Predict(pool(act))
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
		{Data: make([]float32, len(act)), Shape: []int64{1, channels, Side, Side}},
		{Data: make([]float32, e.classes), Shape: []int64{1, int64(e.classes)}},
	}
	in := []onnxrt.Tensor{{Data: act, Shape: []int64{1, channels, Side, Side}}, {Data: hot, Shape: []int64{1, int64(e.classes)}}}
	if err := e.bwd.Run(ctx, in, out); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	raw := camOf(act, out[0].Data, e.sign)
	return &Map{Rows: Side, Cols: Side, Values: scaled(raw), Raw: raw, Class: class, Probs: out[1].Data}, nil
}

// pool averages NCHW activations of one photo over the grid: its
// features.
func pool(act []float32) []float32 {
	f := make([]float32, channels)
	for k := range f {
		var s float32
		for _, v := range act[k*Side*Side : (k+1)*Side*Side] {
			s += v
		}
		f[k] = s / (Side * Side)
	}
	return f
}

// camOf is Grad-CAM from the activations and their gradient (both
// [channels, Side, Side]) before clipping: each map weighted by its mean
// gradient (times sign), summed.
func camOf(act, g []float32, sign float64) []float64 {
	cam := make([]float64, Side*Side)
	for k := range channels {
		var alpha float64
		for _, v := range g[k*Side*Side : (k+1)*Side*Side] {
			alpha += float64(v)
		}
		alpha *= sign / (Side * Side)
		if alpha == 0 {
			continue
		}
		for i, v := range act[k*Side*Side : (k+1)*Side*Side] {
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
