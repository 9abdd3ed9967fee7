package inception

import (
	"context"
	"encoding/json"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/keras"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/tfjs"
	"google.golang.org/protobuf/proto"
)

// TestKerasOrder checks our layer names and Keras's model.layers order
// against a model.json that Keras 2.2.4 itself wrote.
func TestKerasOrder(t *testing.T) {
	m, err := tfjs.Read(mltest.Backbone(t))
	if err != nil {
		t.Fatal(err)
	}
	layers := Layers()
	order := KerasOrder(layers)
	if len(order) != len(layers) {
		t.Fatalf("KerasOrder returned %d layers, want %d", len(order), len(layers))
	}
	// The file's model ends in nsfwjs's classifier instead of avg_pool.
	for k, i := range order[:len(order)-1] {
		if got, want := layers[i].Name, m.Layers[k].Name; got != want {
			t.Fatalf("layer %d: got %s, Keras has %s", k, got, want)
		}
	}
	if got := m.Layers[len(order)-1].Name; got != "average_pooling2d_10" {
		t.Errorf("the file's first top layer is %s", got)
	}
}

func TestTopology(t *testing.T) {
	layers := Layers()
	channels := map[string]int{}
	ch := Channels(layers)
	convs := 0
	for i, l := range layers {
		if l.Kind == Conv {
			convs++
		}
		channels[l.Name] = ch[i]
	}
	if convs != 94 {
		t.Errorf("%d convolutions, want 94", convs)
	}
	for name, want := range map[string]int{
		"mixed0": 256, "mixed1": 288, "mixed2": 288, "mixed3": 768, "mixed4": 768,
		"mixed7": 768, "mixed8": 1280, "mixed9": 2048, "mixed10": 2048, "avg_pool": Features,
	} {
		if channels[name] != want {
			t.Errorf("%s has %d channels, want %d", name, channels[name], want)
		}
	}
}

// zeroLayers returns weights of the right shapes, in Keras order, as a
// Keras file would list them.
func zeroLayers() []keras.Layer {
	layers := Layers()
	var out []keras.Layer
	units := map[string]Unit{} // shapes by conv and batch-norm layer name
	ch := Channels(layers)
	for i, l := range layers {
		if l.Kind == Conv {
			units[l.Name] = Unit{KH: l.KH, KW: l.KW, In: ch[l.Inputs[0]], Out: l.Filters}
			units[layers[i+1].Name] = units[l.Name]
		}
	}
	arr := func(name string, shape ...int) keras.Array {
		a := keras.Array{Name: name, Shape: shape}
		a.Data = make([]float32, a.Size())
		if name == "moving_variance" {
			for i := range a.Data {
				a.Data[i] = 1
			}
		}
		return a
	}
	for _, i := range KerasOrder(layers) {
		l := layers[i]
		u := units[l.Name]
		switch l.Kind {
		case Conv:
			out = append(out, keras.Layer{Name: l.Name, Class: "Conv2D", Weights: []keras.Array{arr("kernel", u.KH, u.KW, u.In, u.Out)}})
		case BatchNorm:
			out = append(out, keras.Layer{Name: l.Name, Class: "BatchNormalization", Weights: []keras.Array{
				arr("beta", u.Out), arr("moving_mean", u.Out), arr("moving_variance", u.Out)}})
		}
	}
	return out
}

func TestFromKeras(t *testing.T) {
	tests := []struct {
		name   string
		change func([]keras.Layer) []keras.Layer
		errHas string
	}{
		{"valid", func(l []keras.Layer) []keras.Layer { return l }, ""},
		{"extra top layers ignored", func(l []keras.Layer) []keras.Layer {
			return append(l, keras.Layer{Name: "predictions", Class: "Dense"})
		}, ""},
		{"too few layers", func(l []keras.Layer) []keras.Layer { return l[:100] }, "InceptionV3 needs 188: missing conv2d_55, batch_normalization_55, conv2d_56 and 85 more"},
		{"wrong kernel shape", func(l []keras.Layer) []keras.Layer {
			l[4].Weights[0].Shape = []int{3, 3, 32, 33}
			return l
		}, "layer 5 with weights (conv2d_3 in the file, conv2d_3 in InceptionV3): weight kernel has shape [3 3 32 33], want [3 3 32 64]"},
		{"layer of the wrong class", func(l []keras.Layer) []keras.Layer {
			l[1].Class = "Conv2D"
			return l
		}, "is a Conv2D, want a BatchNormalization"},
		{"missing weight", func(l []keras.Layer) []keras.Layer {
			l[1].Weights = l[1].Weights[:2]
			return l
		}, "has no moving_variance weight"},
		{"NaN weight", func(l []keras.Layer) []keras.Layer {
			l[0].Weights[0].Data[7] = float32(math.NaN())
			return l
		}, "weight kernel holds NaN"},
		{"negative variance", func(l []keras.Layer) []keras.Layer {
			l[3].Weights[2].Data[0] = -1
			return l
		}, "negative"},
		{"too many values", func(l []keras.Layer) []keras.Layer {
			l[0].Weights[0].Data = append(l[0].Weights[0].Data, 0)
			return l
		}, "values for shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, ignored, err := FromKeras(tt.change(zeroLayers()))
			if tt.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(w.Units) != 94 {
					t.Errorf("%d units", len(w.Units))
				}
				if tt.name == "extra top layers ignored" && ignored != 1 {
					t.Errorf("ignored %d layers, want 1", ignored)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("error %v, want one containing %q", err, tt.errHas)
			}
		})
	}
}

// TestFolded checks batch-norm folding and the kernel transposition from
// Keras's [KH, KW, In, Out] to ONNX's [Out, In, KH, KW] against a direct
// computation of conv followed by batch normalisation at one position.
func TestFolded(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	u := Unit{KH: 2, KW: 3, In: 4, Out: 5}
	rnd := func(n int, lo float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = lo + r.Float32()
		}
		return v
	}
	u.Kernel = rnd(u.KH*u.KW*u.In*u.Out, -0.5)
	u.Bias, u.Gamma, u.Beta, u.Mean, u.Variance = rnd(5, -0.5), rnd(5, 0.5), rnd(5, -0.5), rnd(5, -0.5), rnd(5, 0.1)
	x := rnd(u.KH*u.KW*u.In, -1) // one receptive field, [KH, KW, In]
	kernel, bias := u.Folded()
	for o := range u.Out {
		var conv, folded float64
		for y := range u.KH {
			for xx := range u.KW {
				for i := range u.In {
					v := float64(x[(y*u.KW+xx)*u.In+i])
					conv += v * float64(u.Kernel[((y*u.KW+xx)*u.In+i)*u.Out+o])
					folded += v * float64(kernel[((o*u.In+i)*u.KH+y)*u.KW+xx])
				}
			}
		}
		conv += float64(u.Bias[o])
		want := float64(u.Gamma[o])*(conv-float64(u.Mean[o]))/math.Sqrt(float64(u.Variance[o])+epsilon) + float64(u.Beta[o])
		got := folded + float64(bias[o])
		if math.Abs(got-want) > 1e-5 {
			t.Errorf("channel %d: folded %v, direct %v", o, got, want)
		}
	}
}

// TestGolden runs our ONNX graph of the offline backbone in ONNX Runtime and
// compares with features TensorFlow.js computed from the same weights and
// pixels (testdata/golden.js).
func TestGolden(t *testing.T) {
	m, err := tfjs.Read(mltest.Backbone(t))
	if err != nil {
		t.Fatal(err)
	}
	kl, err := m.KerasLayers()
	if err != nil {
		t.Fatal(err)
	}
	w, ignored, err := FromKeras(kl)
	if err != nil {
		t.Fatal(err)
	}
	if ignored != 3 {
		t.Errorf("ignored %d layers of nsfwjs's top, want 3", ignored)
	}
	model, err := proto.Marshal(w.Model(UnitRange, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := onnxrt.Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.NewSession(model, InputName, OutputName, onnxrt.Options{Provider: onnxrt.CPU})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	data, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Features map[string][]float32 `json:"features"`
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	names := []string{"cat.png", "dog.png", "sunflower.png"}
	var batch []float32
	for _, name := range names {
		batch = append(batch, readPNG(t, filepath.Join("testdata", name))...)
	}
	out, err := s.Run(context.Background(), batch, int64(len(names)), Size, Size, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		got, want := out[i*Features:(i+1)*Features], golden.Features[name]
		if len(want) != Features {
			t.Fatalf("%s: golden has %d values", name, len(want))
		}
		var diff, norm float64
		for j := range want {
			d := float64(got[j]) - float64(want[j])
			diff += d * d
			norm += float64(want[j]) * float64(want[j])
		}
		rel := math.Sqrt(diff / norm)
		t.Logf("%s: relative L2 error %.2e", name, rel)
		if rel > 1e-3 {
			t.Errorf("%s: relative L2 error %.2e against TensorFlow.js, want <= 1e-3", name, rel)
		}
	}
}

func readPNG(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != Size || b.Dy() != Size {
		t.Fatalf("%s is %v", path, b)
	}
	px := make([]float32, 0, Size*Size*3)
	for y := range Size {
		for x := range Size {
			r, g, bl, _ := img.At(x, y).RGBA()
			px = append(px, float32(r>>8), float32(g>>8), float32(bl>>8))
		}
	}
	return px
}
