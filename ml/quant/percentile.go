package quant

import (
	"context"
	"fmt"
	"math"

	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"google.golang.org/protobuf/proto"
)

// bins is the resolution of the histograms CalibratePercentile keeps per
// activation: 4,096 steps of the activation's full range, 16 times finer
// than the 256 levels of uint8, so the percentile's own rounding is small
// beside the quantisation's.
const bins = 4096

// CalibratePercentile is Calibrate with ranges that leave out the rarest
// values: for each activation, the range holds the share p (say 0.9999)
// of all its values over all calibration images, the rest cut off
// evenly at each end. A few extreme values otherwise set the range, and
// so the step, for the millions of ordinary ones: this is how TensorRT
// and ONNX Runtime's own quantiser calibrate ("percentile").
//
// It takes two passes over the images, batch of one at a time: the first
// finds each activation's extremes, the second fills a histogram over
// them. step (may be nil) is called after each image of each pass.
func CalibratePercentile(ctx context.Context, eng onnxrt.Engine, m *onnx.ModelProto, input string, size int, images []float32, p float64, step Step) (Ranges, error) {
	r, _, err := calibratePercentile(ctx, eng, m, input, size, images, p, step, 0)
	return r, err
}

// calibratePercentile is CalibratePercentile that also returns, when
// outDim > 0, the model's own output for each image (outDim values each,
// one image after another) from the second pass, which computes it
// anyway: the float features of the calibration photos, which the guard
// needs.
func calibratePercentile(ctx context.Context, eng onnxrt.Engine, m *onnx.ModelProto, input string, size int, images []float32, p float64, step Step, outDim int) (Ranges, []float32, error) {
	if !(p > 0.5 && p <= 1) {
		return nil, nil, fmt.Errorf("quant: calibrate: percentile share %g is not in (0.5, 1]", p)
	}
	if p == 1 && outDim > 0 {
		return nil, nil, fmt.Errorf("quant: calibrate: the model's output comes from the second pass, which a share of 1 skips")
	}
	ext, err := Calibrate(ctx, eng, m, input, size, images, 1, Extremes, step)
	if err != nil {
		return nil, nil, err
	}
	if p == 1 {
		return ext, nil, nil
	}
	acts := Activations(m)
	shapes, err := activationShapes(ctx, eng, m, input, size, images[:size*size*3], acts)
	if err != nil {
		return nil, nil, err
	}
	c := proto.Clone(m).(*onnx.ModelProto)
	c.Graph.Output = nil
	out := make([]onnxrt.Tensor, len(acts))
	for i, a := range acts {
		c.Graph.Output = append(c.Graph.Output, valueInfo(a, shapes[i]...))
		n := int64(1)
		for _, d := range shapes[i] {
			n *= d
		}
		out[i] = onnxrt.Tensor{Data: make([]float32, n), Shape: shapes[i]}
	}
	names := acts
	var own []float32
	if outDim > 0 {
		name := m.GetGraph().GetOutput()[0].GetName()
		c.Graph.Output = append(c.Graph.Output, valueInfo(name, 1, int64(outDim)))
		names = append(append([]string(nil), acts...), name)
		out = append(out, onnxrt.Tensor{Data: make([]float32, outDim), Shape: []int64{1, int64(outDim)}})
	}
	data, err := proto.Marshal(c)
	if err != nil {
		return nil, nil, fmt.Errorf("quant: calibration graph: %w", err)
	}
	s, err := eng.NewMultiSession(data, []string{input}, names)
	if err != nil {
		return nil, nil, fmt.Errorf("quant: calibration session: %w", err)
	}
	defer s.Close()
	hist := make([][]int64, len(acts))
	for i := range hist {
		hist[i] = make([]int64, bins)
	}
	per := size * size * 3
	for b := 0; b < len(images)/per; b++ {
		in := []onnxrt.Tensor{{Data: images[b*per : (b+1)*per], Shape: []int64{1, int64(size), int64(size), 3}}}
		if err := s.Run(ctx, in, out); err != nil {
			return nil, nil, fmt.Errorf("quant: calibrate: %w", err)
		}
		if outDim > 0 {
			own = append(own, out[len(acts)].Data...)
		}
		for i, a := range acts {
			r := ext[a]
			w := float64(r.Max - r.Min)
			if w <= 0 {
				continue
			}
			h, lo, k := hist[i], float64(r.Min), float64(bins)/w
			for _, v := range out[i].Data {
				j := int((float64(v) - lo) * k)
				h[max(0, min(bins-1, j))]++
			}
		}
		if err := step.call(1); err != nil {
			return nil, nil, err
		}
	}
	r := Ranges{}
	for i, a := range acts {
		r[a] = percentileRange(hist[i], ext[a], p)
	}
	return r, own, nil
}

// percentileRange returns the range over the histogram h of ext that
// leaves out the share 1−p of values, half below and half above.
func percentileRange(h []int64, ext Range, p float64) Range {
	var total int64
	for _, c := range h {
		total += c
	}
	if total == 0 || ext.Max <= ext.Min {
		return ext
	}
	cut := int64(math.Floor((1 - p) / 2 * float64(total)))
	step := (ext.Max - ext.Min) / float32(len(h))
	lo, hi := 0, len(h)-1
	for acc := h[lo]; acc <= cut && lo < hi; acc += h[lo] {
		lo++
	}
	for acc := h[hi]; acc <= cut && hi > lo; acc += h[hi] {
		hi--
	}
	return Range{Min: ext.Min + float32(lo)*step, Max: ext.Min + float32(hi+1)*step}
}

// activationShapes returns the shape of each activation in acts for one
// image, by running a graph whose outputs are the activations' shapes.
func activationShapes(ctx context.Context, eng onnxrt.Engine, m *onnx.ModelProto, input string, size int, image []float32, acts []string) ([][]int64, error) {
	c := proto.Clone(m).(*onnx.ModelProto)
	g := c.Graph
	g.Output = nil
	var outs []string
	for _, a := range acts {
		sh, f := a+"/shape", a+"/shape_float"
		g.Node = append(g.Node,
			&onnx.NodeProto{Name: proto.String(sh), OpType: proto.String("Shape"), Input: []string{a}, Output: []string{sh}},
			&onnx.NodeProto{Name: proto.String(f), OpType: proto.String("Cast"), Input: []string{sh}, Output: []string{f},
				Attribute: []*onnx.AttributeProto{onnx.Int("to", int64(onnx.TensorProto_FLOAT))}})
		g.Output = append(g.Output, valueInfo(f, 4))
		outs = append(outs, f)
	}
	data, err := proto.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("quant: shape graph: %w", err)
	}
	s, err := eng.NewMultiSession(data, []string{input}, outs)
	if err != nil {
		return nil, fmt.Errorf("quant: shape session: %w", err)
	}
	defer s.Close()
	out := make([]onnxrt.Tensor, len(outs))
	for i := range out {
		out[i] = onnxrt.Tensor{Data: make([]float32, 4), Shape: []int64{4}}
	}
	in := []onnxrt.Tensor{{Data: image, Shape: []int64{1, int64(size), int64(size), 3}}}
	if err := s.Run(ctx, in, out); err != nil {
		return nil, fmt.Errorf("quant: activation shapes: %w", err)
	}
	shapes := make([][]int64, len(acts))
	for i, o := range out {
		for _, d := range o.Data {
			shapes[i] = append(shapes[i], int64(d))
		}
	}
	return shapes, nil
}
