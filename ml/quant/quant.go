// Package quant turns a float ONNX image model into an 8-bit one in ONNX
// Runtime's QDQ format: every convolution's kernel is stored as int8, per
// output channel and symmetric, with its bias as int32, and every
// activation between layers passes through a QuantizeLinear →
// DequantizeLinear pair (uint8) whose range was measured on real photos.
// The graph stays a standard ONNX graph that runs anywhere; ONNX Runtime's
// CPU provider recognises the DequantizeLinear → Conv → QuantizeLinear
// pattern and runs it as one integer convolution (with VNNI or AMX where
// the CPU has them).
//
// Quantising is two steps: Calibrate measures each activation's range on
// calibration images, QDQ rewrites the model with those ranges.
package quant

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"google.golang.org/protobuf/proto"
)

// Range is the smallest and largest value an activation took on the
// calibration images.
type Range struct{ Min, Max float32 }

// Ranges maps an activation tensor's name to its range.
type Ranges map[string]Range

// observed reports whether the output of a node with operator op is an
// activation that gets its own quantisation: what convolutions, pools and
// concatenations read.
func observed(op string) bool {
	switch op {
	case "Relu", "MaxPool", "AveragePool", "Concat", "Transpose":
		return true
	}
	return false
}

// quantised reports whether n's output is an activation that gets its own
// quantisation: what observed says of n's operator, or a convolution that
// an average pool reads (pooled, from pooledConvs). Calibration and QDQ
// must agree on it.
func quantised(n *onnx.NodeProto, pooled map[string]bool) bool {
	return len(n.GetOutput()) == 1 && (observed(n.GetOpType()) || pooled[n.GetOutput()[0]])
}

// Activations lists, in graph order, the 4-D activations of m that QDQ
// quantises: the outputs of its ReLUs, pools and concatenations, the
// input layout change before the first convolution, and convolutions
// that an average pool reads (see PoolsAfterConvs).
func Activations(m *onnx.ModelProto) []string {
	pooled := pooledConvs(m)
	var names []string
	for _, n := range m.GetGraph().GetNode() {
		if quantised(n, pooled) {
			names = append(names, n.GetOutput()[0])
		}
	}
	return names
}

// calibrationModel returns a copy of m whose outputs are, for each
// activation, its minimum and maximum over the batch (ReduceMin and
// ReduceMax keeping dimensions: shape [1, 1, 1, 1]), so that measuring
// ranges moves eight bytes per activation out of the runtime.
func calibrationModel(m *onnx.ModelProto, acts []string) (*onnx.ModelProto, []string) {
	c := proto.Clone(m).(*onnx.ModelProto)
	g := c.Graph
	g.Output = nil
	var outs []string
	for _, a := range acts {
		for _, r := range []string{"ReduceMin", "ReduceMax"} {
			name := a + "/" + r
			g.Node = append(g.Node, &onnx.NodeProto{Name: proto.String(name), OpType: proto.String(r),
				Input: []string{a}, Output: []string{name}, Attribute: []*onnx.AttributeProto{onnx.Int("keepdims", 1)}})
			g.Output = append(g.Output, valueInfo(name, 1, 1, 1, 1))
			outs = append(outs, name)
		}
	}
	return c, outs
}

func valueInfo(name string, dims ...int64) *onnx.ValueInfoProto {
	shape := &onnx.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	elem := int32(onnx.TensorProto_FLOAT)
	return &onnx.ValueInfoProto{Name: proto.String(name), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: &elem, Shape: shape}}}}
}

// Mode says how Calibrate turns each batch's extremes into a range.
type Mode int

const (
	// MeanOfBatches averages the batches' minima and maxima: a rare
	// extreme value is clipped rather than stretching the range (and so
	// coarsening the steps) for every other value.
	MeanOfBatches Mode = iota
	// Extremes takes the smallest minimum and the largest maximum.
	Extremes
)

// Step is called after each batch of images a long function of this
// package runs, with the number of images in it: the caller counts
// progress with it, and may block in it to pause the work (for work of
// its own that comes first) or return an error to stop it, which the
// function then returns. A nil Step does nothing.
type Step func(images int) error

func (s Step) call(images int) error {
	if s == nil {
		return nil
	}
	return s(images)
}

// Calibrate runs m (input named input, NHWC images of side size) on the
// calibration images, batch at a time, on eng, and returns the range of
// every activation QDQ quantises, as mode says. images holds the images
// one after another, size·size·3 values each. step (may be nil) is called
// after each batch.
func Calibrate(ctx context.Context, eng onnxrt.Engine, m *onnx.ModelProto, input string, size int, images []float32, batch int, mode Mode, step Step) (Ranges, error) {
	per := size * size * 3
	if len(images) == 0 || len(images)%per != 0 {
		return nil, fmt.Errorf("quant: calibrate: %d values are not whole %d×%d RGB images", len(images), size, size)
	}
	acts := Activations(m)
	if len(acts) == 0 {
		return nil, errors.New("quant: calibrate: the model has no activations to quantise")
	}
	cm, outs := calibrationModel(m, acts)
	data, err := proto.Marshal(cm)
	if err != nil {
		return nil, fmt.Errorf("quant: calibration graph: %w", err)
	}
	s, err := eng.NewMultiSession(data, []string{input}, outs)
	if err != nil {
		return nil, fmt.Errorf("quant: calibration session: %w", err)
	}
	defer s.Close()
	r := Ranges{}
	n := len(images) / per
	out := make([]onnxrt.Tensor, len(outs))
	for i := range out {
		out[i] = onnxrt.Tensor{Data: make([]float32, 1), Shape: []int64{1, 1, 1, 1}}
	}
	batches := 0
	for b0 := 0; b0 < n; b0 += batch {
		b1 := min(n, b0+batch)
		in := []onnxrt.Tensor{{Data: images[b0*per : b1*per], Shape: []int64{int64(b1 - b0), int64(size), int64(size), 3}}}
		if err := s.Run(ctx, in, out); err != nil {
			return nil, fmt.Errorf("quant: calibrate: %w", err)
		}
		for i, a := range acts {
			lo, hi := out[2*i].Data[0], out[2*i+1].Data[0]
			if mode == Extremes {
				if old, ok := r[a]; ok {
					lo, hi = min(lo, old.Min), max(hi, old.Max)
				}
				r[a] = Range{lo, hi}
				continue
			}
			sum := r[a]
			r[a] = Range{sum.Min + lo, sum.Max + hi}
		}
		batches++
		if err := step.call(b1 - b0); err != nil {
			return nil, err
		}
	}
	if mode == MeanOfBatches {
		for a, sum := range r {
			r[a] = Range{sum.Min / float32(batches), sum.Max / float32(batches)}
		}
	}
	return r, nil
}

// params is an activation's uint8 quantisation: value = scale·(q − zero).
type params struct {
	scale float32
	zero  uint8
}

// paramsOf returns the uint8 quantisation that covers r (widened to
// include 0, so that zero padding and ReLU's zeros are exact).
func paramsOf(r Range) params {
	lo, hi := min(r.Min, 0), max(r.Max, 0)
	if hi-lo < 1e-8 {
		return params{scale: 1}
	}
	s := (hi - lo) / 255
	z := math.Round(float64(-lo / s))
	return params{scale: s, zero: uint8(max(0, min(255, z)))}
}

// QDQ returns m quantised to 8 bits with the activation ranges r (from
// Calibrate on the same model). Convolution kernels become int8 per
// output channel (symmetric: zero point 0), biases int32 at the input's
// scale times the kernel's, activations uint8. A MaxPool keeps its
// input's quantisation, so that ONNX Runtime can run it on the 8-bit
// values directly. m is not changed.
func QDQ(m *onnx.ModelProto, r Ranges) (*onnx.ModelProto, error) {
	return QDQWith(m, r, Options{})
}

// Options adjust what QDQWith quantises.
type Options struct {
	// Float, when set, names the nodes that stay in float: a convolution
	// kept float keeps its float kernel and reads its input dequantised,
	// and a pool or concatenation kept float gets no quantisation of its
	// own. Quantisation error adds up through the network; the layers
	// where it hurts the features most can be left out.
	Float func(node string) bool
	// SharedConcat gives the branches that a concatenation joins the
	// concatenation's own quantisation, so that their values are rounded
	// once, not once per branch and again when joined.
	SharedConcat bool
	// SevenBitWeights keeps kernels within ±64 instead of ±127. x86 CPUs
	// without VNNI multiply uint8 by int8 with AVX2's vpmaddubsw, which
	// adds each pair of products in 16 bits and saturates: with full-range
	// kernels and activations a sum can reach 2·255·127 = 64,770 and is
	// clipped to 32,767, while 2·255·64 = 32,640 always fits (ONNX
	// Runtime's reduce_range). It costs one bit of kernel precision on
	// every CPU.
	SevenBitWeights bool
	// Unsigned, when set, names the convolutions whose kernels are
	// stored as uint8 with zero point 128 (the same values, shifted):
	// ONNX Runtime then multiplies uint8 by uint8, which on AVX2 widens
	// both to 16 bits (vpmaddwd) and cannot saturate, at the cost of
	// speed; with VNNI it loses VNNI's int8 kernels.
	Unsigned func(node string) bool
}

// QDQWith is QDQ with options.
func QDQWith(m *onnx.ModelProto, r Ranges, opt Options) (*onnx.ModelProto, error) {
	isFloat := func(n *onnx.NodeProto) bool { return opt.Float != nil && opt.Float(n.GetName()) }
	q := proto.Clone(m).(*onnx.ModelProto)
	g := q.Graph
	inits := map[string]*onnx.TensorProto{}
	for _, t := range g.Initializer {
		inits[t.GetName()] = t
	}
	producer := map[string]*onnx.NodeProto{}
	for _, n := range g.Node {
		for _, o := range n.Output {
			producer[o] = n
		}
	}
	// Only activations that an integer kernel reads are quantised: the
	// last block's output, which only the global average pool reads, stays
	// float (quantising it would only add error to the features).
	intReader := map[string]bool{}
	for _, n := range g.Node {
		switch n.GetOpType() {
		case "Conv", "MaxPool", "AveragePool", "Concat":
			if isFloat(n) {
				continue
			}
			for _, in := range n.Input {
				intReader[in] = true
			}
		}
	}
	// Each activation's parameters; a MaxPool takes its input's.
	qp := map[string]params{}
	pooled := pooledConvs(m)
	for _, n := range g.Node {
		if !quantised(n, pooled) || !intReader[n.Output[0]] {
			continue
		}
		a := n.Output[0]
		if n.GetOpType() == "MaxPool" {
			if p, ok := qp[n.Input[0]]; ok {
				qp[a] = p
				continue
			}
		}
		rg, ok := r[a]
		if !ok {
			return nil, fmt.Errorf("quant: no calibrated range for activation %s", a)
		}
		qp[a] = paramsOf(rg)
	}
	if opt.SharedConcat {
		// From the last concatenation back, so that a branch that is
		// itself a concatenation (mixed9_0 in mixed9) passes the outer
		// one's quantisation on to its own branches.
		readers := map[string]int{}
		for _, n := range g.Node {
			for _, in := range n.Input {
				readers[in]++
			}
		}
		for i := len(g.Node) - 1; i >= 0; i-- {
			n := g.Node[i]
			p, ok := qp[n.GetOutput()[0]]
			if n.GetOpType() != "Concat" || !ok {
				continue
			}
			for _, in := range n.Input {
				if _, ok := qp[in]; ok && readers[in] == 1 {
					qp[in] = p
				}
			}
		}
	}

	var nodes []*onnx.NodeProto
	var added []*onnx.TensorProto
	scalar := func(name string, v float32) string {
		added = append(added, floatTensor(name, []float32{v}))
		return name
	}
	dq := map[string]string{} // activation → its dequantised name
	for _, n := range g.Node {
		// Inputs read the dequantised activations.
		for i, in := range n.Input {
			if d, ok := dq[in]; ok {
				n.Input[i] = d
			}
		}
		if n.GetOpType() == "Conv" && !isFloat(n) {
			if err := quantiseConv(n, inits, qp, dq, opt, &nodes, &added); err != nil {
				return nil, err
			}
		}
		nodes = append(nodes, n)
		if len(n.Output) != 1 {
			continue
		}
		a := n.Output[0]
		p, ok := qp[a]
		if !ok {
			continue
		}
		zp := a + "/zero_point"
		added = append(added, &onnx.TensorProto{Name: proto.String(zp), DataType: dtype(onnx.TensorProto_UINT8), RawData: []byte{p.zero}})
		s := scalar(a+"/scale", p.scale)
		nodes = append(nodes,
			&onnx.NodeProto{Name: proto.String(a + "/quantize"), OpType: proto.String("QuantizeLinear"), Input: []string{a, s, zp}, Output: []string{a + "/q"}},
			&onnx.NodeProto{Name: proto.String(a + "/dequantize"), OpType: proto.String("DequantizeLinear"), Input: []string{a + "/q", s, zp}, Output: []string{a + "/dq"}})
		dq[a] = a + "/dq"
	}
	g.Node = nodes
	// The float kernels and biases that were replaced are dropped.
	used := map[string]bool{}
	for _, n := range g.Node {
		for _, in := range n.Input {
			used[in] = true
		}
	}
	var keep []*onnx.TensorProto
	for _, t := range append(g.Initializer, added...) {
		if used[t.GetName()] {
			keep = append(keep, t)
		}
	}
	g.Initializer = keep
	return q, nil
}

// quantiseConv replaces conv's float kernel and bias with int8 and int32
// initializers read through DequantizeLinear nodes, appended to nodes.
func quantiseConv(conv *onnx.NodeProto, inits map[string]*onnx.TensorProto, qp map[string]params, dq map[string]string, opt Options, nodes *[]*onnx.NodeProto, added *[]*onnx.TensorProto) error {
	if len(conv.Input) < 2 {
		return fmt.Errorf("quant: convolution %s has no kernel", conv.GetName())
	}
	// The input's scale, for the bias: the input is a dequantised
	// activation.
	var in params
	found := false
	for a, d := range dq {
		if d == conv.Input[0] {
			in, found = qp[a], true
			break
		}
	}
	if !found {
		return fmt.Errorf("quant: convolution %s reads %s, which is not a quantised activation", conv.GetName(), conv.Input[0])
	}
	kt := inits[conv.Input[1]]
	if kt == nil || len(kt.Dims) != 4 {
		return fmt.Errorf("quant: convolution %s: kernel %s is not a 4-D initializer", conv.GetName(), conv.Input[1])
	}
	k := floats(kt)
	out := int(kt.Dims[0])
	per := len(k) / out
	scales := make([]float32, out)
	kq := make([]byte, len(k))
	limit := float32(127)
	if opt.SevenBitWeights {
		limit = 64
	}
	for c := range out {
		w := k[c*per : (c+1)*per]
		m := float32(0)
		for _, v := range w {
			m = max(m, float32(math.Abs(float64(v))))
		}
		s := m / limit
		if s == 0 {
			s = 1
		}
		scales[c] = s
		for i, v := range w {
			kq[c*per+i] = byte(int8(max(-float64(limit), min(float64(limit), math.Round(float64(v/s))))))
		}
	}
	name := conv.Input[1]
	kind, zero := onnx.TensorProto_INT8, make([]byte, out)
	if opt.Unsigned != nil && opt.Unsigned(conv.GetName()) {
		kind = onnx.TensorProto_UINT8
		for i := range kq {
			kq[i] += 128 // two's complement int8 + 128 as uint8
		}
		for i := range zero {
			zero[i] = 128
		}
	}
	*added = append(*added,
		&onnx.TensorProto{Name: proto.String(name + "/int8"), Dims: kt.Dims, DataType: dtype(kind), RawData: kq},
		floatTensor(name+"/scales", scales, int64(out)),
		&onnx.TensorProto{Name: proto.String(name + "/zero_points"), Dims: []int64{int64(out)}, DataType: dtype(kind), RawData: zero})
	*nodes = append(*nodes, &onnx.NodeProto{Name: proto.String(name + "/dequantize"), OpType: proto.String("DequantizeLinear"),
		Input: []string{name + "/int8", name + "/scales", name + "/zero_points"}, Output: []string{name + "/dq"},
		Attribute: []*onnx.AttributeProto{onnx.Int("axis", 0)}})
	conv.Input[1] = name + "/dq"
	if len(conv.Input) < 3 || conv.Input[2] == "" {
		return nil
	}
	bt := inits[conv.Input[2]]
	if bt == nil {
		return fmt.Errorf("quant: convolution %s: bias %s is not an initializer", conv.GetName(), conv.Input[2])
	}
	b := floats(bt)
	if len(b) != out {
		return fmt.Errorf("quant: convolution %s: %d biases for %d channels", conv.GetName(), len(b), out)
	}
	bs := make([]float32, out)
	bq := make([]byte, 4*out)
	for c := range out {
		bs[c] = in.scale * scales[c]
		v := math.Round(float64(b[c] / bs[c]))
		binary.LittleEndian.PutUint32(bq[4*c:], uint32(int32(max(math.MinInt32, min(math.MaxInt32, v)))))
	}
	bname := conv.Input[2]
	*added = append(*added,
		&onnx.TensorProto{Name: proto.String(bname + "/int32"), Dims: []int64{int64(out)}, DataType: dtype(onnx.TensorProto_INT32), RawData: bq},
		floatTensor(bname+"/scales", bs, int64(out)),
		&onnx.TensorProto{Name: proto.String(bname + "/zero_points"), Dims: []int64{int64(out)}, DataType: dtype(onnx.TensorProto_INT32), RawData: make([]byte, 4*out)})
	*nodes = append(*nodes, &onnx.NodeProto{Name: proto.String(bname + "/dequantize"), OpType: proto.String("DequantizeLinear"),
		Input: []string{bname + "/int32", bname + "/scales", bname + "/zero_points"}, Output: []string{bname + "/dq"},
		Attribute: []*onnx.AttributeProto{onnx.Int("axis", 0)}})
	conv.Input[2] = bname + "/dq"
	return nil
}

func dtype(t onnx.TensorProto_DataType) *int32 {
	v := int32(t)
	return &v
}

func floatTensor(name string, v []float32, dims ...int64) *onnx.TensorProto {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return &onnx.TensorProto{Name: proto.String(name), Dims: dims, DataType: dtype(onnx.TensorProto_FLOAT), RawData: raw}
}

// floats returns a float32 initializer's values (raw little-endian data or
// the FloatData field).
func floats(t *onnx.TensorProto) []float32 {
	if len(t.FloatData) > 0 {
		return t.FloatData
	}
	v := make([]float32, len(t.RawData)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[4*i:]))
	}
	return v
}

// Blocks names the InceptionV3 block each node of m belongs to: "stem"
// for the convolutions and pools before mixed0, then "mixed0" …
// "mixed10", the block whose concatenation (named so) ends the node's
// stretch of the graph. Nodes after the last block (the global pool)
// belong to none.
func Blocks(m *onnx.ModelProto) map[string]string {
	out := map[string]string{}
	var pending []string
	started := false
	for _, n := range m.GetGraph().GetNode() {
		name := n.GetName()
		pending = append(pending, name)
		// The stem ends with the pool that mixed0's branches read.
		if !started && n.GetOpType() == "MaxPool" && name == "max_pooling2d_2" {
			for _, p := range pending {
				out[p] = "stem"
			}
			pending, started = nil, true
			continue
		}
		if n.GetOpType() == "Concat" && isBlockName(name) {
			for _, p := range pending {
				out[p] = name
			}
			pending = nil
		}
	}
	return out
}

// isBlockName reports whether name is "mixed" and a number: a block's
// final concatenation, not one of the inner ones (mixed9_0).
func isBlockName(name string) bool {
	rest, ok := strings.CutPrefix(name, "mixed")
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
