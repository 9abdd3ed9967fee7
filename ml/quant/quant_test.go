package quant

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
	"google.golang.org/protobuf/proto"
)

// featureModel reads the test backbone's float feature model.
func featureModel(t *testing.T) *onnx.ModelProto {
	t.Helper()
	m, _ := featureModelBytes(t)
	return m
}

// featureModelBytes is featureModel with the model's bytes.
func featureModelBytes(t *testing.T) (*onnx.ModelProto, []byte) {
	t.Helper()
	b, err := backbone.Open(mltest.Backbone(t))
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.FeatureModel()
	if err != nil {
		t.Fatal(err)
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return &m, data
}

// testPhotos lists the test pet and flower photos, sorted: at least 4
// of each.
func testPhotos(t *testing.T) (pets, flowers []string) {
	t.Helper()
	pets, _ = filepath.Glob(filepath.Join(mltest.Photos(t, "pets"), "*", "*.jpg"))
	flowers, _ = filepath.Glob(filepath.Join(mltest.Photos(t, "flowers"), "*", "*.jpg"))
	sort.Strings(pets)
	sort.Strings(flowers)
	if len(pets) < 4 || len(flowers) < 4 {
		t.Fatalf("%d pet and %d flower photos", len(pets), len(flowers))
	}
	return pets, flowers
}

// runFeatures runs a feature model on n images in one batch.
func runFeatures(t *testing.T, eng onnxrt.Engine, model []byte, in []float32, n int64) []float32 {
	t.Helper()
	s, err := eng.NewSession(model, inception.InputName, inception.OutputName)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f, err := s.Run(context.Background(), in, n, inception.Size, inception.Size, 3)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func images(t *testing.T, paths []string) []float32 {
	t.Helper()
	per := inception.Size * inception.Size * 3
	out := make([]float32, len(paths)*per)
	for i, p := range paths {
		img, err := photo.LoadFile(p, inception.Size, photo.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range img.Pix {
			out[i*per+j] = float32(v)
		}
	}
	return out
}

// TestQDQ quantises the real backbone after calibrating on four pet
// photos, and checks the 8-bit model's features of four flower photos
// against the float model's: the graph holds int8 kernels and no float
// ones, and the features point the same way.
func TestQDQ(t *testing.T) {
	rt, err := onnxrt.Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	m, floatBytes := featureModelBytes(t)
	pets, flowers := testPhotos(t)
	eng := onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: 2}}
	cal := []string{pets[0], pets[len(pets)/3], pets[2*len(pets)/3], pets[len(pets)-1]}
	r, err := Calibrate(context.Background(), eng, m, inception.InputName, inception.Size, images(t, cal), 2, MeanOfBatches, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acts := Activations(m); len(r) != len(acts) {
		t.Fatalf("%d ranges for %d activations", len(r), len(acts))
	}
	for a, rg := range r {
		if !(rg.Min <= rg.Max) || math.IsInf(float64(rg.Max), 0) {
			t.Fatalf("activation %s: range %v", a, rg)
		}
	}
	q, err := QDQ(m, r)
	if err != nil {
		t.Fatal(err)
	}
	var int8s, floatKernels int
	for _, init := range q.Graph.Initializer {
		switch {
		case init.GetDataType() == int32(onnx.TensorProto_INT8) && len(init.Dims) == 4:
			int8s++
		case init.GetDataType() == int32(onnx.TensorProto_FLOAT) && len(init.Dims) == 4:
			floatKernels++
		}
	}
	if int8s != 94 || floatKernels != 0 {
		t.Errorf("quantised graph: %d int8 and %d float kernels, want InceptionV3's 94 and 0", int8s, floatKernels)
	}
	qBytes, err := proto.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(qBytes) > len(floatBytes)/3 {
		t.Errorf("quantised model is %d bytes, the float one %d: want about a quarter", len(qBytes), len(floatBytes))
	}
	run := func(model []byte) []float32 {
		t.Helper()
		return runFeatures(t, eng, model, images(t, flowers[:4]), 4)
	}
	ff, qf := run(floatBytes), run(qBytes)
	for i := range 4 {
		x, y := ff[i*inception.Features:(i+1)*inception.Features], qf[i*inception.Features:(i+1)*inception.Features]
		var xy, xx, yy float64
		for j := range x {
			xy, xx, yy = xy+float64(x[j])*float64(y[j]), xx+float64(x[j])*float64(x[j]), yy+float64(y[j])*float64(y[j])
		}
		if c := xy / math.Sqrt(xx*yy); c < 0.99 {
			t.Errorf("%s: cosine of 8-bit and float features %.4f, want ≥ 0.99", flowers[i], c)
		}
	}
	if rel := mltest.RelL2(qf, ff); rel > 0.2 || rel == 0 {
		t.Errorf("relative L2 of 8-bit and float features %.3f, want small but not 0", rel)
	}
}

// TestParams checks that an activation's uint8 quantisation covers its
// range to within one step at each end (the zero point is rounded).
func TestParams(t *testing.T) {
	for _, r := range []Range{{0, 6}, {-1, 1}, {-3, 0.5}, {0.2, 4}, {0, 0}} {
		p := paramsOf(r)
		lo := p.scale * (0 - float32(p.zero))
		hi := p.scale * (255 - float32(p.zero))
		if lo > min(r.Min, 0)+p.scale || hi < max(r.Max, 0)-p.scale {
			t.Errorf("%v: scale %g zero %d covers [%g, %g]", r, p.scale, p.zero, lo, hi)
		}
	}
}

// TestPercentileRange checks the cut at each end of a histogram: the
// share left out is split evenly, and a share of 1 keeps the extremes.
func TestPercentileRange(t *testing.T) {
	h := make([]int64, 100) // values 0…99 in [0, 100), one each, and 9,900 zeros
	for i := range h {
		h[i] = 1
	}
	h[0] = 9901
	r := percentileRange(h, Range{0, 100}, 0.999) // 10,000 values: 5 cut at each end
	if r.Min != 0 || r.Max != 95 {
		t.Errorf("range %v, want [0, 95]", r)
	}
	if r := percentileRange(h, Range{0, 100}, 1); r != (Range{0, 100}) {
		t.Errorf("share 1: range %v", r)
	}
}

// TestQDQOptions quantises the real graph keeping the stem in float and
// sharing the concatenations' quantisation, and checks both in the graph.
func TestQDQOptions(t *testing.T) {
	m := featureModel(t)
	blocks := Blocks(m)
	if blocks["batch_normalization_1"] != "stem" || blocks["max_pooling2d_2"] != "stem" || blocks["batch_normalization_6"] != "mixed0" ||
		blocks["mixed9_0"] != "mixed9" || blocks["mixed10"] != "mixed10" {
		t.Fatalf("blocks: %v", blocks)
	}
	// Made-up ranges, different per activation, so that sharing shows.
	r := Ranges{}
	for i, a := range Activations(m) {
		r[a] = Range{0, float32(1 + i)}
	}
	q, err := QDQWith(m, r, Options{Float: func(n string) bool { return blocks[n] == "stem" }, SharedConcat: true})
	if err != nil {
		t.Fatal(err)
	}
	inits := map[string][]byte{}
	var int8s, floatKernels int
	for _, init := range q.Graph.Initializer {
		inits[init.GetName()] = init.RawData
		switch {
		case init.GetDataType() == int32(onnx.TensorProto_INT8) && len(init.Dims) == 4:
			int8s++
		case init.GetDataType() == int32(onnx.TensorProto_FLOAT) && len(init.Dims) == 4:
			floatKernels++
		}
	}
	if int8s != 89 || floatKernels != 5 {
		t.Errorf("%d int8 and %d float kernels, want 89 and the stem's 5", int8s, floatKernels)
	}
	if _, ok := inits["activation_1/scale"]; ok {
		t.Error("the stem's activations are quantised")
	}
	// mixed0's branches take mixed0's scale.
	for _, a := range []string{"activation_6", "activation_8", "activation_11", "activation_12"} {
		if string(inits[a+"/scale"]) != string(inits["mixed0/scale"]) {
			t.Errorf("%s's scale is not mixed0's", a)
		}
	}
}

// TestQDQKernelOptions quantises the real graph's kernels three ways and
// checks every kernel: full-range int8 (some channel reaches ±127), 7-bit
// (within ±64, so that AVX2's pairwise 16-bit sums of uint8×int8 cannot
// saturate: 2·255·64 < 32,768), and uint8 with zero point 128 (the int8
// values shifted); each dequantises to its float kernel within half a step.
func TestQDQKernelOptions(t *testing.T) {
	m := featureModel(t)
	floatKernels := map[string][]float32{}
	for _, init := range m.Graph.Initializer {
		if len(init.Dims) == 4 {
			floatKernels[init.GetName()] = floats(init)
		}
	}
	r := Ranges{}
	for _, a := range Activations(m) {
		r[a] = Range{0, 6}
	}
	for _, tc := range []struct {
		name  string
		opt   Options
		kind  onnx.TensorProto_DataType
		zero  int
		limit int
	}{
		{"int8", Options{}, onnx.TensorProto_INT8, 0, 127},
		{"7-bit", Options{SevenBitWeights: true}, onnx.TensorProto_INT8, 0, 64},
		{"uint8", Options{Unsigned: func(string) bool { return true }}, onnx.TensorProto_UINT8, 128, 127},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := QDQWith(m, r, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			inits := map[string]*onnx.TensorProto{}
			for _, init := range q.Graph.Initializer {
				inits[init.GetName()] = init
			}
			kernels, reached := 0, false
			for name, w := range floatKernels {
				k, scales, zeros := inits[name+"/int8"], inits[name+"/scales"], inits[name+"/zero_points"]
				if k == nil || scales == nil || zeros == nil {
					t.Fatalf("kernel %s: no quantised kernel, scales or zero points", name)
				}
				if k.GetDataType() != int32(tc.kind) || zeros.GetDataType() != int32(tc.kind) {
					t.Fatalf("kernel %s: types %v and %v, want %v", name, k.GetDataType(), zeros.GetDataType(), tc.kind)
				}
				kernels++
				s := floats(scales)
				per := len(w) / len(s)
				for c, z := range zeros.RawData {
					if int(z) != tc.zero {
						t.Fatalf("kernel %s channel %d: zero point %d, want %d", name, c, z, tc.zero)
					}
				}
				for i, raw := range k.RawData {
					v := int(int8(raw))
					if tc.kind == onnx.TensorProto_UINT8 {
						v = int(raw) - tc.zero
					}
					if v < -tc.limit || v > tc.limit {
						t.Fatalf("kernel %s: value %d outside ±%d", name, v, tc.limit)
					}
					reached = reached || v == tc.limit || v == -tc.limit
					sc := s[i/per]
					if d := math.Abs(float64(float32(v)*sc - w[i])); d > float64(sc)/2*1.0001 {
						t.Fatalf("kernel %s[%d]: %g dequantises to %g (scale %g)", name, i, w[i], float32(v)*sc, sc)
					}
				}
			}
			if kernels != 94 || !reached {
				t.Errorf("%d kernels (want 94); a channel reached ±%d: %v", kernels, tc.limit, reached)
			}
		})
	}
}

// TestBuildOptions checks which kernels Build makes uint8: none where the
// CPU's products do not saturate, the stem's five where they do, on the
// graph Build quantises (pools after their convolutions).
func TestBuildOptions(t *testing.T) {
	m := PoolsAfterConvs(featureModel(t))
	r := Ranges{}
	for _, a := range Activations(m) {
		r[a] = Range{0, 6}
	}
	for _, tc := range []struct {
		saturating    bool
		int8s, uint8s int
		kind          string
	}{{false, 94, 0, "int8"}, {true, 89, 5, "int8-u8stem"}} {
		q, err := QDQWith(m, r, buildOptions(m, tc.saturating))
		if err != nil {
			t.Fatal(err)
		}
		var int8s, uint8s int
		for _, init := range q.Graph.Initializer {
			switch {
			case init.GetDataType() == int32(onnx.TensorProto_INT8) && len(init.Dims) == 4:
				int8s++
			case init.GetDataType() == int32(onnx.TensorProto_UINT8) && len(init.Dims) == 4:
				uint8s++
			}
		}
		if int8s != tc.int8s || uint8s != tc.uint8s {
			t.Errorf("saturating %v: %d int8 and %d uint8 kernels, want %d and %d", tc.saturating, int8s, uint8s, tc.int8s, tc.uint8s)
		}
		if SaturatingProducts() == tc.saturating && BuildKind() != tc.kind {
			t.Errorf("saturating %v: BuildKind %q, want %q", tc.saturating, BuildKind(), tc.kind)
		}
	}
}

// TestJudge checks the guard's verdict on made-up features: identical
// features pass; features pulled towards the centre keep their direction
// and pass; features with a large random part fail on the cosine, and
// the reason names the set.
func TestJudge(t *testing.T) {
	dim := inception.Features
	rng := rand.New(rand.NewPCG(1, 2))
	var cal, guard []Photo
	var calF, gF []float32
	for i := range 40 {
		set, label := "pets", "cat"
		if i%2 == 1 {
			label = "dog"
		}
		if i >= 20 {
			set, label = "flowers", []string{"rose", "tulip"}[i%2]
		}
		for _, dst := range []*[]Photo{&cal, &guard} {
			*dst = append(*dst, Photo{Set: set, Label: label})
		}
		for _, f := range []*[]float32{&calF, &gF} {
			for j := range dim {
				v := rng.Float32()
				if j%2 == i%2 { // the label's half of the features is larger
					v += 2
				}
				*f = append(*f, v)
			}
		}
	}
	smp := Samples{Calibration: cal, Guard: guard}
	if g := Judge(smp, calF, nil, gF, gF); !g.Passed || len(g.Sets) != 2 || g.Sets[0].Cosine < 0.9999 || g.Sets[0].FloatAccuracy != 1 {
		t.Errorf("identical features: %+v", g)
	}
	noisy := make([]float32, len(gF))
	for i, v := range gF {
		noisy[i] = v + 0.5*float32(rng.NormFloat64())
	}
	g := Judge(smp, calF, nil, gF, noisy)
	if g.Passed || !strings.Contains(g.Reason, "cosine") || !strings.Contains(g.Reason, g.Sets[0].Set) {
		t.Errorf("noisy features: %+v", g)
	}
}
