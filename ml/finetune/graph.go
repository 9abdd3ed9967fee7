// Package finetune trains InceptionV3's top inception blocks (mixed9 and
// mixed10) together with the classifier head, as the Keras recipe "Fine-tune
// InceptionV3 on a new set of classes" does after training the head alone.
//
// The blocks read the mixed8 activations (8×8×1280 per photo), which
// package features caches, so the rest of the backbone runs once per photo.
// Batch normalisation stays in inference mode (the Keras transfer-learning
// guide's advice): its moving statistics are frozen and folded into the
// convolutions inside the graph, while the convolution kernels and the
// batch normalisation offsets (beta) train, which is what Keras trains when
// those layers are unfrozen with BatchNormalization called in inference
// mode. Each step's forward and backward pass is one ONNX Runtime run of a
// graph built by package grad. SGD with momentum updates the weights inside
// that graph, which keeps them and the velocities on the provider's device
// between steps (device.go, update.go); Adam (and SGD when Config.Steps
// says so) runs in Go.
package finetune

import (
	"fmt"
	"slices"

	"github.com/clasifica/clasifica/ml/grad"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// Activation shape: the output of mixed8, channels first.
const (
	Channels = 1280
	Side     = 8
	// Dim is the number of values of one photo's mixed8 activations.
	Dim = Channels * Side * Side
)

// MaxBlocks is the number of inception blocks that can train.
const MaxBlocks = 2

// Graph value names.
const (
	inputActivations = "mixed8"
	inputMask        = "dropout_mask"
	inputTarget      = "target"
	inputScale       = "scale"
	outputFeatures   = "features"
)

// topLayers returns the layers after mixed8 (mixed9, mixed10 and the
// global pooling) and, for each, the index of its unit in Weights.Units
// (-1 for layers without weights), and the index of the first layer of
// mixed10.
func topLayers() (layers []inception.Layer, all []inception.Layer, start int, unitOf []int) {
	all = inception.Layers()
	unit := 0
	unitOf = make([]int, len(all))
	start = -1
	for i, l := range all {
		unitOf[i] = -1
		if l.Kind == inception.Conv {
			unitOf[i] = unit
			unit++
		}
		if l.Name == "mixed8" {
			start = i + 1
		}
	}
	return all[start:], all, start, unitOf
}

// TrainableUnits returns the indices in Weights.Units of the units of the
// last blocks inception blocks (1: mixed10, 2: mixed9 and mixed10).
func TrainableUnits(blocks int) []int {
	_, all, start, unitOf := topLayers()
	// mixed9 ends at the concat named "mixed9"; mixed10 follows.
	from := start
	if blocks == 1 {
		for i := start; i < len(all); i++ {
			if all[i].Name == "mixed9" {
				from = i + 1
				break
			}
		}
	}
	var units []int
	if blocks <= 0 {
		return nil
	}
	for i := from; i < len(all); i++ {
		if unitOf[i] >= 0 {
			units = append(units, unitOf[i])
		}
	}
	return units
}

// KernelONNX returns a unit's kernel in ONNX layout [Out, In, KH, KW].
func KernelONNX(u *inception.Unit) []float32 {
	k := make([]float32, len(u.Kernel))
	for o := range u.Out {
		for i := range u.In {
			for y := range u.KH {
				for x := range u.KW {
					k[((o*u.In+i)*u.KH+y)*u.KW+x] = u.Kernel[((y*u.KW+x)*u.In+i)*u.Out+o]
				}
			}
		}
	}
	return k
}

// KernelKeras converts a kernel in ONNX layout back to Keras's [KH, KW, In,
// Out] for unit u's shape.
func KernelKeras(u *inception.Unit, k []float32) []float32 {
	out := make([]float32, len(k))
	for o := range u.Out {
		for i := range u.In {
			for y := range u.KH {
				for x := range u.KW {
					out[((y*u.KW+x)*u.In+i)*u.Out+o] = k[((o*u.In+i)*u.KH+y)*u.KW+x]
				}
			}
		}
	}
	return out
}

// param is one trained array of the graph.
type param struct {
	name  string
	shape []int64
	unit  int  // index in Weights.Units, or -1 for the head
	beta  bool // the unit's batch normalisation offset rather than its kernel
	layer int  // head layer, for head parameters
	bias  bool // head bias rather than kernel
	// folded, in a graph whose kernels Go prepares (graphSpec.hostKernels),
	// is the graph input that holds the kernel already multiplied by its
	// batch normalisation's scale (per output channel, scale); the graph
	// differentiates with respect to it. flipped, when not empty, is the
	// input holding that product in the input gradient's layout
	// ([In, Out, KH, KW], flipped in both spatial axes).
	folded, flipped string
	scale           []float32
	// rows says that the graph gives the kernel's gradient as the rows
	// of its matrix product, [Out, KH·KW·In], each output channel's in
	// KH, KW, In order (grad.ConvAttrs.KernelGradRows): the update reads
	// it so. Host kernels only.
	rows bool
}

// gradShape is the shape of the gradient the graph gives for p.
func (p *param) gradShape() []int64 {
	if p.rows {
		return []int64{p.shape[0], p.shape[1] * p.shape[2] * p.shape[3]}
	}
	return p.shape
}

// input is the graph input that carries the parameter.
func (p *param) input() string {
	if p.folded != "" {
		return p.folded
	}
	return p.name
}

// graphSpec is what a training or feature graph is built from.
type graphSpec struct {
	w         *inception.Weights
	trainable map[int]bool // unit indices
	// mean and scale standardise the pooled features before the head.
	mean, scale []float32
	head        []head.Dense // nil for the feature graph
	dropout     bool
	kernelGrad  grad.KernelGrad
	// hostKernels: the trained kernels come in already multiplied by their
	// batch normalisation's scale, and in the input gradient's layout too
	// (param.folded, param.flipped), and the graph gives the gradient with
	// respect to that product. The trainer prepares both when it updates
	// the weights in Go; computed in the graph they were a multiply, a
	// transpose and a slice of every kernel each step (about 7% of a step
	// on the CPU).
	hostKernels bool
	// rows fixes the batch of the graph's inputs (0: each run's own), and
	// gpu builds it for a GPU provider (grad.Builder.GPU): GraphFixed.
	rows int64
	gpu  bool
}

// build returns the graph and its parameters, in input order after the
// data inputs. With a head, the graph computes the loss, the probabilities
// and every parameter's gradient; without, the pooled features.
func (s *graphSpec) build() (*grad.Builder, []param, []string, []string) {
	b := grad.NewBuilder("inception_top_training")
	b.KernelGrad, b.GPU = s.kernelGrad, s.gpu
	batch := int64(-1)
	if s.rows > 0 {
		batch = s.rows
	}
	layers, all, start, unitOf := topLayers()
	x := b.Input(inputActivations, batch, Channels, Side, Side)
	inputs := []string{x}
	var params []param
	out := make([]string, len(all))
	out[start-1] = x
	// pooled holds, for an average pooling whose only reader is a 1×1
	// convolution (each block's pool branch), the pooling's input: the
	// convolution runs first and the pooling after it, on its 192
	// channels instead of the 1,280 or 2,048 it reads. A 1×1
	// convolution is a per-pixel linear map and the pooling's weights
	// sum to 1 at every pixel (edges included: count_include_pad is off),
	// so the two commute exactly, bias included.
	pooled := map[int]string{}
	// parts holds, for each concatenation, the values it joins, nested
	// concatenations replaced by their own parts: a concatenation of
	// concatenations is one copy, not two.
	parts := map[int][]string{}
	for k, l := range layers {
		i := start + k
		var in string
		if len(l.Inputs) > 0 {
			in = out[l.Inputs[0]]
		}
		switch l.Kind {
		case inception.Conv:
			ui := unitOf[i]
			u := &s.w.Units[ui]
			pads := [4]int64{}
			if l.Same {
				pads = [4]int64{int64(l.KH-1) / 2, int64(l.KW-1) / 2, int64(l.KH-1) / 2, int64(l.KW-1) / 2}
			}
			attrs := grad.ConvAttrs{Strides: [2]int64{int64(l.Stride), int64(l.Stride)}, Pads: pads}
			kshape := []int64{int64(u.Out), int64(u.In), int64(u.KH), int64(u.KW)}
			var kernel, bias string
			if s.trainable[ui] {
				sc, shift := u.BatchNorm()
				kp := param{name: u.Conv + "/kernel", shape: kshape, unit: ui}
				bp := param{name: u.BN + "/beta", shape: []int64{int64(u.Out)}, unit: ui, beta: true}
				if s.hostKernels {
					// The same product as the Mul below, made in Go
					// (Trainer.prepareKernels): the same float32
					// multiplications, so the gradients do not change.
					kp.folded, kp.scale = u.Conv+"/kernel_folded", sc
					// The update reads the kernel gradient as the
					// product's rows, where the graph makes it so.
					kp.rows = s.kernelGrad == grad.KernelGradIm2col
					attrs.KernelGradRows = kp.rows
					kernel = b.Param(kp.folded, kshape...)
					reads := in
					if p, ok := pooled[l.Inputs[0]]; ok {
						reads = p
					}
					if l.Stride == 1 && b.Differentiable(reads) {
						kp.flipped = u.Conv + "/kernel_folded_grad_x"
						attrs.GradKernel = b.Input(kp.flipped, int64(u.In), int64(u.Out), int64(u.KH), int64(u.KW))
					}
				} else {
					kernel = b.Mul(b.Param(kp.name, kshape...), b.Const(u.BN+"/scale", sc, int64(u.Out), 1, 1, 1))
				}
				params = append(params, kp, bp)
				bias = b.Add(b.Param(bp.name, int64(u.Out)), b.Const(u.BN+"/shift", shift, int64(u.Out)))
			} else {
				fk, fb := u.Folded()
				kernel = b.Const(u.Conv+"/kernel_folded", fk, kshape...)
				bias = b.Const(u.Conv+"/bias_folded", fb, int64(u.Out))
			}
			if p, ok := pooled[l.Inputs[0]]; ok {
				out[i] = b.AveragePool3(b.Conv(p, kernel, bias, attrs))
			} else {
				out[i] = b.Conv(in, kernel, bias, attrs)
			}
		case inception.BatchNorm:
			out[i] = in
		case inception.ReLU:
			out[i] = b.Relu(in)
		case inception.AvgPool:
			if r := readers(all, i); len(r) == 1 && all[r[0]].Kind == inception.Conv && all[r[0]].KH == 1 && all[r[0]].KW == 1 && all[r[0]].Stride == 1 {
				pooled[i] = in
				continue
			}
			out[i] = b.AveragePool3(in)
		case inception.Concat:
			// A concatenation that only other concatenations or the
			// global pooling read is never made: its parts are (below).
			var ins []string
			for _, k := range l.Inputs {
				if p, ok := parts[k]; ok {
					ins = append(ins, p...)
				} else {
					ins = append(ins, out[k])
				}
			}
			parts[i] = ins
			for _, r := range readers(all, i) {
				if k := all[r].Kind; k != inception.Concat && k != inception.GlobalAvgPool {
					out[i] = b.Concat(1, ins...)
					break
				}
			}
		case inception.GlobalAvgPool:
			if p, ok := parts[l.Inputs[0]]; ok {
				// The mean of each part, concatenated: the same numbers
				// as the mean of the concatenation (each channel's mean
				// alone), without copying mixed10's 2,048 channels into
				// one value, nor its gradient out of one, each step.
				means := make([]string, len(p))
				for j, v := range p {
					means[j] = b.GlobalAveragePool(v)
				}
				out[i] = b.Flatten(b.Concat(1, means...))
				break
			}
			out[i] = b.Flatten(b.GlobalAveragePool(in))
		default:
			panic(fmt.Sprintf("finetune: layer %s of kind %d in the top blocks", l.Name, l.Kind))
		}
	}
	f := out[len(out)-1]
	if s.head == nil {
		g := b.Graph()
		g.Node("Identity", outputFeatures, []string{f})
		g.Output(outputFeatures, batch, inception.Features)
		for _, p := range params {
			inputs = append(inputs, p.name)
		}
		return b, params, inputs, []string{outputFeatures}
	}

	neg := make([]float32, len(s.mean))
	for i, m := range s.mean {
		neg[i] = -m
	}
	f = b.Mul(b.Add(f, b.Const("standardize/shift", neg, int64(len(neg)))), b.Const("standardize/scale", s.scale, int64(len(s.scale))))
	var mask string
	last := s.head[len(s.head)-1]
	if s.dropout {
		mask = b.Input(inputMask, batch, int64(last.In))
	}
	target := b.Input(inputTarget, batch, int64(last.Out))
	scale := b.Input(inputScale, batch, 1)
	a := f
	for li, d := range s.head {
		kp := param{name: fmt.Sprintf("dense_%d/kernel", li+1), shape: []int64{int64(d.In), int64(d.Out)}, unit: -1, layer: li}
		bp := param{name: fmt.Sprintf("dense_%d/bias", li+1), shape: []int64{int64(d.Out)}, unit: -1, layer: li, bias: true}
		params = append(params, kp, bp)
		if li == len(s.head)-1 && s.dropout {
			a = b.Dropout(a, mask)
		}
		a = b.Dense(a, b.Param(kp.name, kp.shape...), b.Param(bp.name, bp.shape...))
		if li < len(s.head)-1 {
			a = b.Relu(a)
		}
	}
	loss, probs := b.SoftmaxCrossEntropy(a, target, scale)
	grads := b.Backward(loss)
	b.Output(loss)
	b.Output(probs)
	outputs := []string{loss, probs}
	if s.dropout {
		inputs = append(inputs, mask)
	}
	inputs = append(inputs, target, scale)
	for _, p := range params {
		inputs = append(inputs, p.input())
		b.Graph().Output(grads[p.input()], p.gradShape()...)
		outputs = append(outputs, grads[p.input()])
	}
	for _, p := range params {
		if p.flipped != "" {
			inputs = append(inputs, p.flipped)
		}
	}
	return b, params, inputs, outputs
}

// readers returns the indices of the layers that read layer i's output.
func readers(all []inception.Layer, i int) []int {
	var r []int
	for k, l := range all {
		if slices.Contains(l.Inputs, i) {
			r = append(r, k)
		}
	}
	return r
}

// session opens a session of the training graph on eng, with the update
// in the graph when device is set.
func (s *graphSpec) session(eng onnxrt.Engine, device bool, cfg Config) (*onnxrt.MultiSession, []param, []string, []string, error) {
	model, params, inputs, outputs, err := s.trainingModel(device, cfg)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("finetune: training graph: %w", err)
	}
	// Only steps on the device, of the fixed graph, can be captured and
	// replayed.
	eng.Options.GraphCapture = cfg.GraphCapture && device && s.rows > 0
	ts, err := eng.NewMultiSession(model, inputs, outputs)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("finetune: %w", err)
	}
	return ts, params, inputs, outputs, nil
}

// trainingModel is the training graph; on the device (see appendSGD) it
// also updates the weights with SGD and outputs them instead of the
// gradients.
func (s *graphSpec) trainingModel(device bool, cfg Config) ([]byte, []param, []string, []string, error) {
	if !device {
		host := *s
		host.hostKernels = true
		return host.model()
	}
	b, params, inputs, outputs := s.build()
	vin, vout := appendSGD(b.Graph(), params, outputs[2:], cfg)
	inputs = append(inputs, vin...)
	outputs = append(outputs[:2:2], vout...)
	m := b.Graph().Model("clasifica", "InceptionV3 top blocks and head, with SGD's update", nil, nil)
	data, err := marshal(m)
	return data, params, inputs, outputs, err
}

func (s *graphSpec) model() ([]byte, []param, []string, []string, error) {
	b, params, inputs, outputs := s.build()
	m := b.Graph().Model("clasifica", "InceptionV3 top blocks and head", nil, nil)
	data, err := marshal(m)
	return data, params, inputs, outputs, err
}
