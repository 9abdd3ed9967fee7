package finetune

import (
	"math"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// trainRun trains four epochs of the test photos (labels y, sample
// weights sw) with cfg on eng, snapshotting the weights after the second
// and restoring them after the third (so they travel back to the device
// too), and returns the trained weights, each epoch's loss, the photos'
// validation features and whether the weights were on the device.
func trainRun(t *testing.T, eng onnxrt.Engine, cfg Config, y []int, sw []float32) (weights []float32, losses []float64, feats []float32, device bool) {
	t.Helper()
	f := setup(t)
	mean, scale := identity()
	tr, err := NewTrainer(f.w, goldenHead(t), mean, scale, cfg, eng)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var snap *Snapshot
	for epoch := range 4 {
		st, err := tr.Epoch(t.Context(), loaderOf(f.acts), y, sw)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, st.Loss)
		switch epoch {
		case 1:
			snap = tr.Snapshot()
		case 2:
			tr.Restore(snap)
		}
	}
	if feats, err = tr.Features(t.Context(), loaderOf(f.acts), len(y)); err != nil {
		t.Fatal(err)
	}
	return trainedWeights(t, tr), losses, feats, tr.OnDevice()
}

// trainedWeights returns every weight tr trains, in one slice: the
// trained units' kernels and offsets, the head's kernels and biases.
func trainedWeights(t *testing.T, tr *Trainer) []float32 {
	t.Helper()
	var w []float32
	u := tr.Units()
	for _, i := range TrainableUnits(tr.cfg.Blocks) {
		w = append(w, u[i].Kernel...)
		w = append(w, u[i].Beta...)
	}
	h, err := tr.Head()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range h.Layers() {
		w = append(w, l.Kernel...)
		w = append(w, l.Bias...)
	}
	return w
}

// TestFixedGraphMatchesDynamic trains the same run with the GPU providers'
// fixed graph (the batch fixed at 2, so each epoch's last batch of one
// photo is padded with a row of weight zero; LogSoftmax decomposed) and
// with the CPU's dynamic graph, on the CPU: the losses and the weights must
// agree to float rounding, which proves that the padding row adds nothing
// to the loss, its mean or any gradient, and that the decomposed
// LogSoftmax computes the same step. The fixed graph with the update in
// Go and in the graph must agree to the bit, as the dynamic one does.
func TestFixedGraphMatchesDynamic(t *testing.T) {
	f := setup(t)
	y := []int{0, 1, 2}
	sw := []float32{1, 0.5, 2}
	run := func(graph, steps string, capture bool) ([]float32, []float64, []float32) {
		cfg := DefaultConfig()
		cfg.BatchSize, cfg.LearningRate, cfg.Seed, cfg.Steps, cfg.Graph = 2, 1e-3, 7, steps, graph
		cfg.GraphCapture = capture
		cfg.WeightDecay, cfg.LabelSmoothing = 0.1, 0.1
		w, l, feats, _ := trainRun(t, cpu(f.rt), cfg, y, sw)
		return w, l, feats
	}
	dw, dl, df := run(GraphDynamic, StepsHost, false)
	fw, fl, ff := run(GraphFixed, StepsHost, false)
	// The same steps again with the update in the graph, and as a
	// captured graph's replays run them (the batch copied into device
	// values bound once; the graph numbers are ignored by the CPU).
	for _, capture := range []bool{false, true} {
		gw, gl, gf := run(GraphFixed, StepsDevice, capture)
		if !slices.Equal(fl, gl) {
			t.Errorf("fixed graph, losses: update in Go %v, in the graph (captured steps %v) %v", fl, capture, gl)
		}
		for i := range fw {
			if math.Float32bits(fw[i]) != math.Float32bits(gw[i]) {
				t.Fatalf("fixed graph, weight %d: update in Go %v, in the graph (captured steps %v) %v", i, fw[i], capture, gw[i])
			}
		}
		if !slices.Equal(ff, gf) {
			t.Errorf("fixed graph: the features differ between the update in Go and in the graph (captured steps %v)", capture)
		}
	}
	for i := range dl {
		if d := math.Abs(fl[i] - dl[i]); d > 1e-6*math.Abs(dl[i]) {
			t.Errorf("epoch %d loss: fixed graph %v, dynamic %v", i, fl[i], dl[i])
		}
	}
	largest, rel := 0.0, onnxrt.RelL2(fw, dw)
	for i := range dw {
		largest = max(largest, math.Abs(float64(fw[i])-float64(dw[i])))
	}
	// The first epoch moves the weights by about lr·|g|; rounding in a
	// different order of the batch sums is some 1e-7 of a weight.
	if rel > 1e-5 {
		t.Errorf("weights: relative L2 difference %.2e between the fixed and the dynamic graph", rel)
	}
	if r := onnxrt.RelL2(ff, df); r > 1e-5 {
		t.Errorf("features: relative L2 difference %.2e between the fixed and the dynamic graph", r)
	}
	t.Logf("fixed against dynamic graph: losses %v and %v; weights: largest difference %.2e, relative L2 %.2e", fl, dl, largest, rel)
}

// webgpuOps are the operators (at opset 13, the one package onnx emits)
// that ONNX Runtime's WebGPU provider has kernels for, from the kernel
// registrations in onnxruntime/core/providers/webgpu/
// webgpu_execution_provider.cc. LogSoftmax is not among them: in the
// shipped 1.30 library it ran on the CPU, as the profile of a step on an
// H200 showed. Shape is, but the runtime moves shape computations (Shape
// and the int64 nodes that read it) to the CPU on every GPU provider; the
// fixed graph has none.
var webgpuOps = []string{
	"Abs", "Neg", "Floor", "Ceil", "Reciprocal", "Sqrt", "Exp", "Erf", "Sigmoid", "HardSigmoid", "Log",
	"Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Tanh", "Not",
	"Cast", "Clip", "Elu", "Relu", "LeakyRelu", "ThresholdedRelu",
	"ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceL1", "ReduceL2",
	"ReduceLogSum", "ReduceSumSquare", "ReduceLogSumExp",
	"Add", "Sub", "Mul", "Div", "Pow", "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual",
	"Reshape", "Squeeze", "Unsqueeze", "Where", "Transpose", "DepthToSpace",
	"Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
	"Gemm", "MatMul", "ArgMax", "ArgMin", "Softmax", "Concat", "Split", "Expand", "Resize",
	"Gather", "GatherElements", "Slice", "Flatten", "Tile", "InstanceNormalization", "Range",
	"Einsum", "Pad", "BatchNormalization", "CumSum",
}

// TestFixedGraphOps checks the training graphs built for a GPU provider
// (both blocks, dropout, with SGD's update in the graph and without)
// against the WebGPU provider's operators: every node's operator must be
// one it runs, no node may compute a shape, and every input and output
// must have a static shape (so that one set of device buffers serves
// every step). It counts the nodes by operator.
func TestFixedGraphOps(t *testing.T) {
	f := setup(t)
	mean, scale := identity()
	cfg := DefaultConfig()
	trainable := map[int]bool{}
	for _, u := range TrainableUnits(cfg.Blocks) {
		trainable[u] = true
	}
	spec := &graphSpec{w: f.w, trainable: trainable, mean: mean, scale: scale, head: goldenHead(t).Layers(), dropout: true}
	spec.fix(true, cfg.BatchSize)
	graph := func(device bool) *onnx.GraphProto {
		model, _, _, _, err := spec.trainingModel(device, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var m onnx.ModelProto
		if err := proto.Unmarshal(model, &m); err != nil {
			t.Fatal(err)
		}
		return m.GetGraph()
	}
	for _, device := range []bool{false, true} {
		g := graph(device)
		count := map[string]int{}
		for _, n := range g.GetNode() {
			op := n.GetOpType()
			count[op]++
			if !slices.Contains(webgpuOps, op) {
				t.Errorf("update in the graph %v: node %s is a %s, which WebGPU runs on the CPU", device, n.GetName(), op)
			}
		}
		for _, vs := range [][]*onnx.ValueInfoProto{g.GetInput(), g.GetOutput()} {
			for _, v := range vs {
				for _, d := range v.GetType().GetTensorType().GetShape().GetDim() {
					if d.GetDimValue() <= 0 {
						t.Errorf("update in the graph %v: %s has a dimension that is not fixed", device, v.GetName())
						break
					}
				}
			}
		}
		t.Logf("update in the graph %v: %d nodes, %v", device, len(g.GetNode()), count)
	}
	// What the dynamic graph (the CPU's) would leave to the CPU on WebGPU.
	spec.fix(false, 0)
	g := graph(true)
	away := map[string]int{}
	for _, n := range g.GetNode() {
		if op := n.GetOpType(); op == "Shape" || !slices.Contains(webgpuOps, op) {
			away[op]++
		}
	}
	t.Logf("the dynamic graph, update in the graph: %d nodes, of which WebGPU would leave to the CPU %v", len(g.GetNode()), away)
}

// TestGraphConfig checks which graph each setting and provider gets, and
// that captured steps set up their device values.
func TestGraphConfig(t *testing.T) {
	for _, c := range []struct {
		graph string
		p     onnxrt.Provider
		want  bool
	}{
		{"", onnxrt.CPU, false},
		{GraphAuto, onnxrt.WebGPU, true},
		{GraphAuto, onnxrt.CUDA, true},
		{GraphAuto, onnxrt.Auto, true},
		{GraphFixed, onnxrt.CPU, true},
		{GraphDynamic, onnxrt.CUDA, false},
	} {
		cfg := DefaultConfig()
		cfg.Graph = c.graph
		if got := fixedGraph(cfg, c.p); got != c.want {
			t.Errorf("graph %q on %s: fixed %v, want %v", c.graph, c.p, got, c.want)
		}
	}
	cfg := DefaultConfig()
	cfg.Graph = "static"
	if cfg.Validate() == nil {
		t.Error("graph \"static\": no error")
	}
	for _, c := range []Config{
		{Graph: GraphDynamic}, {Steps: StepsHost}, {Optimizer: Adam},
	} {
		cfg := DefaultConfig()
		cfg.GraphCapture = true
		if c.Graph != "" {
			cfg.Graph = c.Graph
		}
		if c.Steps != "" {
			cfg.Steps = c.Steps
		}
		if c.Optimizer != "" {
			cfg.Optimizer = c.Optimizer
		}
		if cfg.Validate() == nil {
			t.Errorf("capture with graph %q, steps %q, optimiser %q: no error", cfg.Graph, cfg.Steps, cfg.Optimizer)
		}
	}
	// (TestStepsConfig checks that Auto landing on the CPU gets the
	// dynamic graph.) Captured steps: the batch's device values are
	// there, bound once.
	f := setup(t)
	mean, scale := identity()
	cfg = DefaultConfig()
	cfg.Blocks = 1
	cfg.Steps, cfg.Graph, cfg.GraphCapture = StepsDevice, GraphFixed, true
	tg, err := NewTrainer(f.w, goldenHead(t), mean, scale, cfg, cpu(f.rt))
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if !tg.CapturedSteps() || tg.FixedBatch() != cfg.BatchSize {
		t.Errorf("capture asked for: captured steps %v, fixed batch %d", tg.CapturedSteps(), tg.FixedBatch())
	}
}
