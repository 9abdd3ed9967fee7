package finetune

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/tfjs"
)

var photos = []string{"cat.png", "dog.png", "sunflower.png"}

// fixture holds what the tests share: the offline backbone's weights and
// the mixed8 activations of the three test photos, computed once.
type fixture struct {
	w    *inception.Weights
	rt   *onnxrt.Runtime
	acts []float32 // 3×Dim
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

func setup(t testing.TB) fixture {
	t.Helper()
	backbone, lib := mltest.Backbone(t), mltest.RuntimeLibrary(t)
	fixOnce.Do(func() { fix, fixErr = load(backbone, lib) })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func load(backbone, lib string) (fixture, error) {
	m, err := tfjs.Read(backbone)
	if err != nil {
		return fixture{}, err
	}
	kl, err := m.KerasLayers()
	if err != nil {
		return fixture{}, err
	}
	w, _, err := inception.FromKeras(kl)
	if err != nil {
		return fixture{}, err
	}
	rt, err := onnxrt.Load(lib)
	if err != nil {
		return fixture{}, err
	}
	model, err := proto.Marshal(w.Mixed8Model(inception.UnitRange, nil, nil))
	if err != nil {
		return fixture{}, err
	}
	s, err := rt.NewSession(model, inception.InputName, inception.Mixed8Output, onnxrt.Options{Provider: onnxrt.CPU})
	if err != nil {
		return fixture{}, err
	}
	defer s.Close()
	var batch []float32
	for _, name := range photos {
		px, err := readPNG(filepath.Join("..", "inception", "testdata", name))
		if err != nil {
			return fixture{}, err
		}
		batch = append(batch, px...)
	}
	acts, err := s.Run(context.Background(), batch, int64(len(photos)), inception.Size, inception.Size, 3)
	if err != nil {
		return fixture{}, err
	}
	return fixture{w: w, rt: rt, acts: acts}, nil
}

func readPNG(path string) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, err
	}
	px := make([]float32, 0, inception.Size*inception.Size*3)
	for y := range inception.Size {
		for x := range inception.Size {
			r, g, b, _ := img.At(x, y).RGBA()
			px = append(px, float32(r>>8), float32(g>>8), float32(b>>8))
		}
	}
	return px, nil
}

// goldenHead is gradgolden.js's head: Dense(2048 -> 8, relu) -> Dense(8 ->
// 3, softmax) with weights from formulas.
func goldenHead(t testing.TB) *head.Head {
	const hidden, classes = 8, 3
	k1 := make([]float32, inception.Features*hidden)
	for i := range inception.Features {
		for j := range hidden {
			k1[i*hidden+j] = float32(0.02 * math.Sin(0.37*float64(i)+1.3*float64(j)+0.5))
		}
	}
	b1 := make([]float32, hidden)
	for j := range b1 {
		b1[j] = float32(0.01*float64(j) - 0.03)
	}
	k2 := make([]float32, hidden*classes)
	for j := range hidden {
		for k := range classes {
			k2[j*classes+k] = float32(0.3 * math.Cos(0.7*float64(j)+2.1*float64(k)))
		}
	}
	b2 := make([]float32, classes)
	for k := range b2 {
		b2[k] = float32(0.05 * float64(k))
	}
	h, err := head.FromLayers([]head.Dense{
		{In: inception.Features, Out: hidden, Kernel: k1, Bias: b1, Activation: head.ActivationReLU},
		{In: hidden, Out: classes, Kernel: k2, Bias: b2, Activation: head.ActivationSoftmax},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func identity() (mean, scale []float32) {
	mean, scale = make([]float32, inception.Features), make([]float32, inception.Features)
	for i := range scale {
		scale[i] = 1
	}
	return mean, scale
}

func cpu(rt *onnxrt.Runtime) onnxrt.Engine {
	return onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: 2}}
}

func loaderOf(acts []float32) Loader {
	return func(_ context.Context, idx []int, dst []float32) error {
		for r, i := range idx {
			copy(dst[r*Dim:(r+1)*Dim], acts[i*Dim:(i+1)*Dim])
		}
		return nil
	}
}

// TestFeatures checks the top blocks' forward graph against TensorFlow.js:
// the pooled features from the mixed8 activations must be the features
// golden.js computed from the photos.
func TestFeatures(t *testing.T) {
	f := setup(t)
	mean, scale := identity()
	cfg := DefaultConfig()
	tr, err := NewTrainer(f.w, goldenHead(t), mean, scale, cfg, cpu(f.rt))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	got, err := tr.Features(t.Context(), loaderOf(f.acts), len(photos))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "inception", "testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Features map[string][]float32 `json:"features"`
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	for i, name := range photos {
		if rel := mltest.RelL2(got[i*inception.Features:(i+1)*inception.Features], golden.Features[name]); rel > 1e-3 {
			t.Errorf("%s: features differ from TensorFlow.js's by %.2e (relative L2)", name, rel)
		}
	}
}

// TestGolden compares the fine-tuning step's gradients with those
// TensorFlow.js's tf.variableGrads computed for the same loss, photos and
// weights (testdata/gradgolden.js): relative L2 error ≤ 1e-3 for every
// stored gradient tensor.
func TestGolden(t *testing.T) {
	f := setup(t)
	data, err := os.ReadFile(filepath.Join("testdata", "gradgolden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Labels        []int     `json:"labels"`
		SampleWeights []float32 `json:"sample_weights"`
		Smoothing     float64   `json:"smoothing"`
		Loss          float64   `json:"loss"`
		Tensors       []struct {
			Weighted int    `json:"weighted"`
			Layer    string `json:"layer"`
			Kind     string `json:"kind"`
			Head     string `json:"head"`
			Shape    []int  `json:"shape"`
			Channels int    `json:"channels"`
			Offset   int    `json:"offset"`
			Count    int    `json:"count"`
		} `json:"tensors"`
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "gradgolden.bin"))
	if err != nil {
		t.Fatal(err)
	}
	values := make([]float32, len(raw)/4)
	for i := range values {
		values[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}

	mean, scale := identity()
	cfg := DefaultConfig()
	cfg.Dropout, cfg.LabelSmoothing, cfg.BatchSize = 0, golden.Smoothing, len(photos)
	// The gradients come out only on the host path; the device path's
	// graph computes the same ones and updates with them inside (see
	// TestDeviceStepsMatchHost).
	cfg.Steps = StepsHost
	tr, err := NewTrainer(f.w, goldenHead(t), mean, scale, cfg, cpu(f.rt))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	loss, _, err := tr.gradients(t.Context(), f.acts, golden.Labels, golden.SampleWeights)
	if err != nil {
		t.Fatal(err)
	}
	if got := loss / float64(len(photos)); math.Abs(got-golden.Loss) > 1e-4*math.Abs(golden.Loss) {
		t.Errorf("loss %v, TensorFlow.js %v", got, golden.Loss)
	}

	// The weight file's i-th weighted layer is the i-th convolution or
	// batch normalisation in Keras's order.
	layers := inception.Layers()
	unitOf := map[int]int{}
	u := 0
	for i, l := range layers {
		if l.Kind == inception.Conv {
			unitOf[i], unitOf[i+1] = u, u
			u++
		}
	}
	var weighted []int
	for _, i := range inception.KerasOrder(layers) {
		if k := layers[i].Kind; k == inception.Conv || k == inception.BatchNorm {
			weighted = append(weighted, i)
		}
	}
	byName := map[string]int{}
	for i, p := range tr.params {
		byName[p.name] = i
	}
	checked := 0
	for _, g := range golden.Tensors {
		want := values[g.Offset : g.Offset+g.Count]
		var got []float32
		name := g.Head
		if g.Head != "" {
			got = tr.grads[byName[g.Head]]
		} else {
			ui := unitOf[weighted[g.Weighted]]
			unit := &f.w.Units[ui]
			name = g.Layer + " (" + unit.Conv + ")"
			if g.Kind == "beta" {
				got = tr.grads[byName[unit.BN+"/beta"]]
			} else {
				i := byName[unit.Conv+"/kernel"]
				dk := slices.Clone(tr.grads[i])
				if p := &tr.params[i]; p.rows {
					// [Out, KH·KW·In] rows, to the kernel's layout.
					kk := int(p.shape[2] * p.shape[3])
					row := len(dk) / int(p.shape[0])
					for o := 0; o < len(dk); o += row {
						rowsToKernel(dk[o:o+row], tr.grads[i][o:o+row], kk)
					}
				}
				if tr.folded[i] != nil {
					// The gradient with respect to kernel·scale, which
					// the update finishes.
					scaleRows(dk, tr.params[i].scale)
				}
				k := KernelKeras(unit, dk)
				if g.Channels > 0 {
					// [KH, KW, In, Out] restricted to the first outputs.
					var s []float32
					for j := 0; j < len(k); j += unit.Out {
						s = append(s, k[j:j+g.Channels]...)
					}
					k = s
				}
				got = k
			}
		}
		rel := mltest.RelL2(got, want)
		t.Logf("%s %s: relative L2 error %.2e", name, g.Kind, rel)
		if rel > 1e-3 {
			t.Errorf("%s %s: gradient differs from TensorFlow.js's by %.2e (relative L2)", name, g.Kind, rel)
		}
		checked++
	}
	// 18 units of 2 tensors, and the head's 4.
	if checked != 40 {
		t.Errorf("checked %d gradient tensors, want every kernel and beta of mixed9 and mixed10 and the head's (40)", checked)
	}
}

// TestDeterministicAndLearns trains twice with the same seed and thread
// count for a few steps on the three photos: the weights must be
// bit-identical, and the loss must fall.
func TestDeterministicAndLearns(t *testing.T) {
	f := setup(t)
	mean, scale := identity()
	y := []int{0, 1, 2}
	run := func() ([]float32, []float64) {
		cfg := DefaultConfig()
		cfg.Blocks, cfg.BatchSize, cfg.LearningRate, cfg.Seed = 1, 2, 1e-3, 5
		tr, err := NewTrainer(f.w, goldenHead(t), mean, scale, cfg, cpu(f.rt))
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		var losses []float64
		for range 4 {
			st, err := tr.Epoch(t.Context(), loaderOf(f.acts), y, nil)
			if err != nil {
				t.Fatal(err)
			}
			losses = append(losses, st.Loss)
		}
		return trainedWeights(t, tr), losses
	}
	a, la := run()
	b, lb := run()
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("weight %d differs between two runs with the same seed: %v, %v", i, a[i], b[i])
		}
	}
	t.Logf("losses %v", la)
	if !slices.Equal(la, lb) {
		t.Errorf("losses %v and %v differ", la, lb)
	}
	if la[len(la)-1] >= la[0] {
		t.Errorf("loss went from %v to %v, want lower", la[0], la[len(la)-1])
	}
}

// TestDeviceStepsMatchHost trains the same run twice, once with SGD's
// update in Go (weights in, gradients out every step) and once with the
// update inside the graph and the weights bound in the runtime's memory,
// swapped between steps: with the same seed and threads the weights, the
// losses and the validation features must be the same to the bit. The run
// has both blocks, weight decay, dropout, label smoothing, sample weights,
// a smaller last batch, and a restore of an earlier snapshot (the weights
// going back to the device).
func TestDeviceStepsMatchHost(t *testing.T) {
	f := setup(t)
	y := []int{0, 1, 2}
	sw := []float32{1, 0.5, 2}
	run := func(steps string) (weights []float32, losses []float64, feats []float32, device bool) {
		cfg := DefaultConfig()
		cfg.BatchSize, cfg.LearningRate, cfg.Seed, cfg.Steps = 2, 1e-3, 7, steps
		cfg.WeightDecay, cfg.LabelSmoothing = 0.1, 0.1
		return trainRun(t, cpu(f.rt), cfg, y, sw)
	}
	hw, hl, hf, hdev := run(StepsHost)
	dw, dl, df, ddev := run(StepsDevice)
	if hdev || !ddev {
		t.Fatalf("on the device: host path %v, device path %v", hdev, ddev)
	}
	t.Logf("losses %v", dl)
	if !slices.Equal(hl, dl) {
		t.Errorf("losses: host path %v, device path %v", hl, dl)
	}
	same := func(what string, a, b []float32) {
		if len(a) != len(b) {
			t.Fatalf("%s: %d and %d values", what, len(a), len(b))
		}
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s %d: host path %v, device path %v", what, i, a[i], b[i])
			}
		}
	}
	same("weight", hw, dw)
	same("feature", hf, df)
}

// TestStepsConfig checks where steps run for each setting.
func TestStepsConfig(t *testing.T) {
	for _, c := range []struct {
		opt, steps string
		p          onnxrt.Provider
		want       bool
	}{
		{SGD, "", onnxrt.CPU, false},
		{SGD, StepsDevice, onnxrt.CPU, true},
		{SGD, StepsAuto, onnxrt.WebGPU, true},
		{SGD, StepsAuto, onnxrt.CUDA, true},
		{SGD, StepsAuto, onnxrt.Auto, true},
		{SGD, StepsAuto, onnxrt.CoreML, false},
		{SGD, StepsHost, onnxrt.CUDA, false},
		{Adam, StepsAuto, onnxrt.CUDA, false},
	} {
		cfg := DefaultConfig()
		cfg.Optimizer, cfg.Steps = c.opt, c.steps
		if got := onDevice(cfg, c.p); got != c.want {
			t.Errorf("%s, steps %q on %s: on the device %v, want %v", c.opt, c.steps, c.p, got, c.want)
		}
	}
	// An undecided provider that lands on the CPU gets the host path.
	if f := setup(t); true {
		mean, scale := identity()
		cfg := DefaultConfig()
		cfg.Blocks = 1
		eng := cpu(f.rt)
		eng.Options.Provider = onnxrt.Auto
		tr, err := NewTrainer(f.w, goldenHead(t), mean, scale, cfg, eng)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Provider() == onnxrt.CPU && tr.OnDevice() {
			t.Error("Auto landed on the CPU with the update in the graph")
		}
		if tr.Provider() == onnxrt.CPU && tr.FixedBatch() != 0 {
			t.Errorf("Auto landed on the CPU with the fixed graph of %d rows", tr.FixedBatch())
		}
		if err := tr.Close(); err != nil {
			t.Error(err)
		}
	}
	cfg := DefaultConfig()
	cfg.Optimizer, cfg.Steps = Adam, StepsDevice
	if cfg.Validate() == nil {
		t.Error("Adam on the device: no error")
	}
	cfg.Optimizer, cfg.Steps = SGD, "gpu"
	if cfg.Validate() == nil {
		t.Error("steps \"gpu\": no error")
	}
}

// TestParallelPieces checks that the Go side's passes over the weights
// visit every weight of every param exactly once, whatever the number of
// threads, and that a kernel's pieces are whole output channels.
func TestParallelPieces(t *testing.T) {
	shapes := [][]int64{{448, 2048, 1, 1}, {384}, {384, 448, 3, 3}, {3, 5, 1, 3}, {2048, 1024}, {1024}}
	for _, threads := range []int{1, 2, 5} {
		tr := &Trainer{threads: threads}
		for _, s := range shapes {
			n := int64(1)
			for _, d := range s {
				n *= d
			}
			tr.params = append(tr.params, param{shape: s})
			tr.values = append(tr.values, make([]float32, n))
		}
		seen := make([][]int32, len(shapes))
		for i, v := range tr.values {
			seen[i] = make([]int32, len(v))
		}
		var mu sync.Mutex
		tr.parallel(func(i, a, b int) {
			if s := shapes[i]; len(s) == 4 {
				row := int(s[1] * s[2] * s[3])
				if a%row != 0 || b%row != 0 {
					t.Errorf("threads %d: param %d piece [%d, %d) splits a row of %d", threads, i, a, b, row)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for k := a; k < b; k++ {
				seen[i][k]++
			}
		})
		for i := range seen {
			for k, c := range seen[i] {
				if c != 1 {
					t.Fatalf("threads %d: param %d weight %d visited %d times", threads, i, k, c)
				}
			}
		}
	}
}

// TestFoldedAdam checks Adam's update of a folded kernel (the host path's
// graph gives the gradient with respect to kernel·scale): the same weights
// as Adam on the kernel's own gradient, and the next step's folded and
// flipped kernels made from them; the same again where the gradient comes
// in rows ([Out, KH·KW·In], param.rows), as the host path's graph gives it.
func TestFoldedAdam(t *testing.T) {
	for _, rows := range []bool{false, true} {
		t.Run(fmt.Sprintf("rows=%v", rows), func(t *testing.T) { testFoldedAdam(t, rows) })
	}
}

func testFoldedAdam(t *testing.T, rows bool) {
	const m, c, kh, kw = 5, 3, 1, 3
	rng := rand.New(rand.NewPCG(9, 9))
	rnd := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	n := m * c * kh * kw
	scale := rnd(m)
	w, g := rnd(n), rnd(n)
	cfg := DefaultConfig()
	cfg.Optimizer, cfg.LearningRate, cfg.WeightDecay = Adam, 1e-3, 0.01
	given := slices.Clone(g)
	if rows {
		for o := range m {
			for i := range c {
				for j := range kh * kw {
					given[(o*kh*kw+j)*c+i] = g[(o*c+i)*kh*kw+j]
				}
			}
		}
	}
	tr := &Trainer{cfg: cfg, threads: 2, step: 2,
		params:  []param{{shape: []int64{m, c, kh, kw}, unit: 0, folded: "k", flipped: "kf", scale: scale, rows: rows}},
		values:  [][]float32{slices.Clone(w)},
		grads:   [][]float32{given},
		m:       [][]float32{make([]float32, n)},
		v:       [][]float32{make([]float32, n)},
		folded:  [][]float32{make([]float32, n)},
		flipped: [][]float32{make([]float32, n)},
	}
	tr.update()

	gw := slices.Clone(g)
	scaleRows(gw, scale)
	head.Adam(w, gw, make([]float32, n), make([]float32, n), cfg.LearningRate, cfg.WeightDecay, 3)
	f := slices.Clone(w)
	scaleRows(f, scale)
	for i := range w {
		if math.Float32bits(w[i]) != math.Float32bits(tr.values[0][i]) || math.Float32bits(f[i]) != math.Float32bits(tr.folded[0][i]) {
			t.Fatalf("weight %d: %v, folded %v; want %v, %v", i, tr.values[0][i], tr.folded[0][i], w[i], f[i])
		}
	}
	checkFlipped(t, tr.flipped[0], f, m, c, kh, kw)
}

// checkFlipped fails t unless flipped is the kernel k [m, c, kh, kw] as
// [c, m, kh, kw] flipped in both spatial axes.
func checkFlipped(t *testing.T, flipped, k []float32, m, c, kh, kw int) {
	t.Helper()
	for o := range m {
		for ci := range c {
			for y := range kh {
				for x := range kw {
					want := k[((o*c+ci)*kh+y)*kw+x]
					if got := flipped[((ci*m+o)*kh+kh-1-y)*kw+kw-1-x]; got != want {
						t.Fatalf("%d×%d×%d×%d kernel flipped: out %d, in %d, %d×%d: %v, want %v", m, c, kh, kw, o, ci, y, x, got, want)
					}
				}
			}
		}
	}
}

// TestFlipRows checks the flipped layout of folded kernels of each shape
// the blocks have, made piece by piece: [c, m, kh, kw], each kh×kw block
// reversed.
func TestFlipRows(t *testing.T) {
	for _, s := range [][4]int{{1500, 101, 1, 1}, {37, 53, 1, 1}, {600, 41, 3, 3}, {6, 4, 1, 3}, {4, 6, 3, 1}} {
		m, c, kh, kw := s[0], s[1], s[2], s[3]
		n := m * c * kh * kw
		f := make([]float32, n)
		for i := range f {
			f[i] = float32(i)
		}
		tr := &Trainer{threads: 3,
			params:  []param{{shape: []int64{int64(m), int64(c), int64(kh), int64(kw)}}},
			values:  [][]float32{f},
			folded:  [][]float32{f},
			flipped: [][]float32{make([]float32, n)},
		}
		tr.parallel(func(i, a, b int) { tr.flipRows(i, a, b) })
		checkFlipped(t, tr.flipped[0], f, m, c, kh, kw)
	}
}

// TestRowsSGD checks SGD's update of folded kernels whose gradient comes in
// rows ([Out, KH·KW·In], param.rows, read in place in that order): the
// same weights, velocities, folded and flipped kernels, to the bit, as
// from the gradient in the kernel's own layout, with and without weight
// decay, for each kernel shape of the blocks.
func TestRowsSGD(t *testing.T) {
	for _, decay := range []float64{0, 0.01} {
		for _, s := range [][4]int{{5, 3, 1, 3}, {4, 6, 3, 1}, {7, 5, 3, 3}, {6, 4, 1, 1}} {
			m, c, kh, kw := s[0], s[1], s[2], s[3]
			n, kk := m*c*kh*kw, kh*kw
			rng := rand.New(rand.NewPCG(uint64(n), 3))
			rnd := func(k int) []float32 {
				v := make([]float32, k)
				for i := range v {
					v[i] = float32(rng.NormFloat64())
				}
				return v
			}
			scale, w, g, vel := rnd(m), rnd(n), rnd(n), rnd(n)
			rows := make([]float32, n)
			for o := range m {
				for i := range c {
					for j := range kk {
						rows[(o*kk+j)*c+i] = g[(o*c+i)*kk+j]
					}
				}
			}
			cfg := DefaultConfig()
			cfg.WeightDecay = decay
			trainer := func(grad []float32, rows bool) *Trainer {
				tr := &Trainer{cfg: cfg, threads: 2,
					params:  []param{{shape: []int64{int64(m), int64(c), int64(kh), int64(kw)}, unit: 0, folded: "k", flipped: "kf", scale: scale, rows: rows}},
					values:  [][]float32{slices.Clone(w)},
					grads:   [][]float32{grad},
					m:       [][]float32{slices.Clone(vel)},
					folded:  [][]float32{make([]float32, n)},
					flipped: [][]float32{make([]float32, n)},
				}
				tr.update()
				return tr
			}
			want, got := trainer(g, false), trainer(rows, true)
			for what, pair := range map[string][2][]float32{
				"weight":   {want.values[0], got.values[0]},
				"velocity": {want.m[0], got.m[0]},
				"folded":   {want.folded[0], got.folded[0]},
				"flipped":  {want.flipped[0], got.flipped[0]},
			} {
				for i := range pair[0] {
					if math.Float32bits(pair[0][i]) != math.Float32bits(pair[1][i]) {
						t.Fatalf("%v kernel, decay %v: %s %d is %v from rows, %v from the kernel's layout", s, decay, what, i, pair[1][i], pair[0][i])
					}
				}
			}
		}
	}
}
