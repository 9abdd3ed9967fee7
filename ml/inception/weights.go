package inception

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/clasifica/clasifica/ml/keras"
)

// epsilon is the BatchNormalization epsilon Keras's InceptionV3 uses (the
// Keras default).
const epsilon = 1e-3

// Unit holds the weights of one conv2d_bn block: a convolution followed by
// batch normalisation.
type Unit struct {
	Conv, BN string // Keras 2.2 layer names
	KH, KW   int
	In, Out  int
	// Kernel is laid out as Keras stores it: [KH, KW, In, Out].
	Kernel []float32
	// Bias is the convolution's bias; nil for InceptionV3, which has none.
	Bias []float32
	// Gamma is the batch normalisation scale; nil for InceptionV3, which
	// uses scale=False.
	Gamma, Beta, Mean, Variance []float32
}

// Weights holds every trained value InceptionV3 needs: 94 conv2d_bn units
// in the order Keras creates them.
type Weights struct {
	Units []Unit
}

// FromKeras matches Keras layers to InceptionV3 as Keras's load_weights
// does: the i-th layer with weights in the file goes to the i-th layer with
// weights in the model, in Keras's model.layers order, and every shape must
// agree. Layers after the last backbone layer (a classifier top) are
// ignored; ignored reports how many.
func FromKeras(file []keras.Layer) (w *Weights, ignored int, err error) {
	layers := Layers()
	order := KerasOrder(layers)
	channels := Channels(layers)
	unitOf := map[int]int{} // conv or batch-norm layer index -> unit index
	w = &Weights{}
	for i, l := range layers {
		if l.Kind == Conv {
			unitOf[i] = len(w.Units)
			unitOf[i+1] = len(w.Units) // conv2d_bn puts the BN right after
			w.Units = append(w.Units, Unit{
				Conv: l.Name, BN: layers[i+1].Name,
				KH: l.KH, KW: l.KW, In: channels[l.Inputs[0]], Out: l.Filters,
			})
		}
	}
	var weighted []int
	for _, i := range order {
		if k := layers[i].Kind; k == Conv || k == BatchNorm {
			weighted = append(weighted, i)
		}
	}
	if len(file) < len(weighted) {
		missing := weighted[len(file):]
		names := make([]string, 0, 3)
		for _, i := range missing[:min(3, len(missing))] {
			names = append(names, layers[i].Name)
		}
		more := ""
		if len(missing) > len(names) {
			more = fmt.Sprintf(" and %d more", len(missing)-len(names))
		}
		return nil, 0, fmt.Errorf("the weights hold %d layers with weights; InceptionV3 needs %d: missing %s%s (is this an InceptionV3?)",
			len(file), len(weighted), strings.Join(names, ", "), more)
	}
	for k, i := range weighted {
		l, f := layers[i], &file[k]
		u := &w.Units[unitOf[i]]
		if err := u.set(l.Kind, f); err != nil {
			return nil, 0, fmt.Errorf("layer %d with weights (%s in the file, %s in InceptionV3): %w", k+1, f.Name, l.Name, err)
		}
	}
	return w, len(file) - len(weighted), nil
}

func (u *Unit) set(kind Kind, f *keras.Layer) error {
	want := "Conv2D"
	if kind == BatchNorm {
		want = "BatchNormalization"
	}
	if f.Class != "" && f.Class != want {
		return fmt.Errorf("is a %s, want a %s", f.Class, want)
	}
	get := func(name string, optional bool, shape ...int) ([]float32, error) {
		a := f.Weight(name)
		if a == nil {
			if optional {
				return nil, nil
			}
			return nil, fmt.Errorf("has no %s weight (has %s)", name, weightNames(f))
		}
		if err := a.CheckShape(shape...); err != nil {
			return nil, err
		}
		for _, v := range a.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("weight %s holds %v", name, v)
			}
		}
		return a.Data, nil
	}
	var err error
	if kind == Conv {
		if len(f.Weights) > 2 {
			return fmt.Errorf("has %d weights (%s), want kernel and optional bias", len(f.Weights), weightNames(f))
		}
		if u.Kernel, err = get("kernel", false, u.KH, u.KW, u.In, u.Out); err != nil {
			return err
		}
		u.Bias, err = get("bias", true, u.Out)
		return err
	}
	if len(f.Weights) > 4 {
		return fmt.Errorf("has %d weights (%s), want at most gamma, beta, moving_mean, moving_variance", len(f.Weights), weightNames(f))
	}
	if u.Gamma, err = get("gamma", true, u.Out); err != nil {
		return err
	}
	if u.Beta, err = get("beta", false, u.Out); err != nil {
		return err
	}
	if u.Mean, err = get("moving_mean", false, u.Out); err != nil {
		return err
	}
	if u.Variance, err = get("moving_variance", false, u.Out); err != nil {
		return err
	}
	for _, v := range u.Variance {
		if v < 0 {
			return fmt.Errorf("moving_variance holds a negative value %v", v)
		}
	}
	return nil
}

func weightNames(f *keras.Layer) []string {
	var s []string
	for _, a := range f.Weights {
		s = append(s, a.Name)
	}
	return s
}

// BatchNorm returns the unit's batch normalisation (in inference mode)
// as a per-channel scale and shift around the trainable offset beta:
// BN(conv(x)) = conv(x)·scale + shift + beta, where scale is
// gamma/sqrt(var+eps) and shift (bias-mean)·scale. Folded and the
// fine-tuning graph, which keeps beta apart to train it, both use it.
func (u *Unit) BatchNorm() (scale, shift []float32) {
	scale, shift = make([]float32, u.Out), make([]float32, u.Out)
	for o := range u.Out {
		s, b := u.batchNorm(o)
		scale[o], shift[o] = float32(s), float32(b)
	}
	return scale, shift
}

// batchNorm is output channel o's scale and shift (see BatchNorm), in
// float64.
func (u *Unit) batchNorm(o int) (scale, shift float64) {
	g := 1.0
	if u.Gamma != nil {
		g = float64(u.Gamma[o])
	}
	scale = g / math.Sqrt(float64(u.Variance[o])+epsilon)
	b := 0.0
	if u.Bias != nil {
		b = float64(u.Bias[o])
	}
	return scale, (b - float64(u.Mean[o])) * scale
}

// Folded returns the unit's convolution with batch normalisation folded in,
// in ONNX layout: kernel [Out, In, KH, KW] and bias [Out].
//
// BN(conv(x)) = gamma*(conv(x)+bias-mean)/sqrt(var+eps) + beta, so each
// output channel's kernel is scaled by gamma/sqrt(var+eps) and the bias
// becomes beta + (bias-mean)*gamma/sqrt(var+eps). The arithmetic runs in
// float64 so that folding adds no error beyond the final rounding.
func (u *Unit) Folded() (kernel, bias []float32) {
	kernel = make([]float32, len(u.Kernel))
	bias = make([]float32, u.Out)
	for o := range u.Out {
		s, shift := u.batchNorm(o)
		bias[o] = float32(float64(u.Beta[o]) + shift)
		for i := range u.In {
			for y := range u.KH {
				for x := range u.KW {
					src := ((y*u.KW+x)*u.In+i)*u.Out + o
					dst := ((o*u.In+i)*u.KH+y)*u.KW + x
					kernel[dst] = float32(float64(u.Kernel[src]) * s)
				}
			}
		}
	}
	return kernel, bias
}

// Hash returns the SHA-256 of the weights in a canonical form (every array
// of every unit, in order, as little-endian float32), so the same weights
// read from a TensorFlow.js folder or a Keras .h5 file hash the same.
func (w *Weights) Hash() [32]byte {
	h := sha256.New()
	buf := make([]byte, 0, 1<<16)
	put := func(tag string, a []float32) {
		buf = append(buf[:0], tag...)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(a)))
		h.Write(buf)
		buf = buf[:0]
		for _, v := range a {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
		}
		h.Write(buf)
	}
	for _, u := range w.Units {
		put("kernel", u.Kernel)
		put("bias", u.Bias)
		put("gamma", u.Gamma)
		put("beta", u.Beta)
		put("mean", u.Mean)
		put("variance", u.Variance)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}
