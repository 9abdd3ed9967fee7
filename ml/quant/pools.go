package quant

import (
	"github.com/clasifica/clasifica/ml/onnx"
	"google.golang.org/protobuf/proto"
)

// PoolsAfterConvs returns a copy of m in which each average pool whose
// only reader is a 1×1 convolution runs after that convolution instead of
// before it: AveragePool → Conv becomes Conv → AveragePool, and what read
// the convolution (InceptionV3's ReLU) reads the pool.
//
// The two compute the same function. A 1×1 convolution is a linear map of
// each pixel's channels plus a bias, and an average of pixels, whatever
// its divisor, commutes with a linear map; the bias passes through an
// average unchanged as long as the divisor counts only the pixels added
// (count_include_pad=0, Keras's "same" pooling), which this checks. Only
// float rounding differs.
//
// It is for the 8-bit model: InceptionV3's pool branches pool the block's
// input (192 to 2,048 channels) and then narrow it to 32–192 channels, and
// ONNX Runtime's 8-bit average pool (QLinearAveragePool) is scalar code,
// which tools/cpumask/ops measured at 30% of the 8-bit model's time with
// VNNI. Pooling the convolution's output pools 4 to 10 times fewer
// channels. The float model keeps its own order: its features, and the
// cache keyed by them, stay as they were.
func PoolsAfterConvs(m *onnx.ModelProto) *onnx.ModelProto {
	c := proto.Clone(m).(*onnx.ModelProto)
	g := c.Graph
	inits := map[string]*onnx.TensorProto{}
	for _, t := range g.Initializer {
		inits[t.GetName()] = t
	}
	readers := map[string][]int{}
	for i, n := range g.Node {
		for _, in := range n.Input {
			readers[in] = append(readers[in], i)
		}
	}
	outputs := map[string]bool{}
	for _, o := range g.Output {
		outputs[o.GetName()] = true
	}
	type pair struct{ pool, conv int }
	var pairs []pair
	for i, p := range g.Node {
		if p.GetOpType() != "AveragePool" || len(p.Input) != 1 || len(p.Output) != 1 || !padsUncounted(p) {
			continue
		}
		r := readers[p.Output[0]]
		if len(r) != 1 || outputs[p.Output[0]] {
			continue
		}
		conv := g.Node[r[0]]
		if pointwise(conv, inits) && conv.Input[0] == p.Output[0] && len(conv.Output) == 1 {
			pairs = append(pairs, pair{i, r[0]})
		}
	}
	for _, pr := range pairs {
		p, conv := g.Node[pr.pool], g.Node[pr.conv]
		// The convolution takes the pool's place in the node list and the
		// pool the convolution's, which keeps the list in topological
		// order: the convolution read only the pool (and initializers),
		// and what read the convolution comes after it.
		out := conv.Output[0]
		unpooled := out + "/unpooled"
		conv.Input[0], conv.Output[0] = p.Input[0], unpooled
		p.Input[0], p.Output[0] = unpooled, out
		g.Node[pr.pool], g.Node[pr.conv] = conv, p
	}
	return c
}

// padsUncounted reports whether an average pool divides by the pixels
// inside the image only (or pads nothing), so that a bias added before it
// comes out of it unchanged.
func padsUncounted(p *onnx.NodeProto) bool {
	include := false
	padded := false
	for _, a := range p.Attribute {
		switch a.GetName() {
		case "count_include_pad":
			include = a.GetI() != 0
		case "pads":
			for _, v := range a.GetInts() {
				padded = padded || v != 0
			}
		case "auto_pad":
			if s := string(a.GetS()); s != "" && s != "NOTSET" && s != "VALID" {
				padded = true
			}
		}
	}
	return !include || !padded
}

// pointwise reports whether conv is a 1×1 convolution with stride 1, no
// padding and no groups, whose kernel is an initializer: a linear map of
// each pixel's channels on its own.
func pointwise(conv *onnx.NodeProto, inits map[string]*onnx.TensorProto) bool {
	if conv.GetOpType() != "Conv" || len(conv.Input) < 2 {
		return false
	}
	k := inits[conv.Input[1]]
	if k == nil || len(k.Dims) != 4 || k.Dims[2] != 1 || k.Dims[3] != 1 {
		return false
	}
	for _, a := range conv.Attribute {
		switch a.GetName() {
		case "strides", "pads":
			one := int64(1)
			if a.GetName() == "pads" {
				one = 0
			}
			for _, v := range a.GetInts() {
				if v != one {
					return false
				}
			}
		case "group":
			if a.GetI() != 1 {
				return false
			}
		case "auto_pad":
			if s := string(a.GetS()); s != "" && s != "NOTSET" && s != "VALID" && s != "SAME_UPPER" && s != "SAME_LOWER" {
				return false
			}
		}
	}
	return true
}

// pooledConvs returns the outputs of m's convolutions that an average
// pool reads (after PoolsAfterConvs): activations of their own, which
// the pool's 8-bit kernel reads quantised.
func pooledConvs(m *onnx.ModelProto) map[string]bool {
	convs := map[string]bool{}
	for _, n := range m.GetGraph().GetNode() {
		if n.GetOpType() == "Conv" && len(n.GetOutput()) == 1 {
			convs[n.GetOutput()[0]] = true
		}
	}
	out := map[string]bool{}
	for _, n := range m.GetGraph().GetNode() {
		if n.GetOpType() == "AveragePool" && len(n.GetInput()) > 0 && convs[n.GetInput()[0]] {
			out[n.GetInput()[0]] = true
		}
	}
	return out
}
