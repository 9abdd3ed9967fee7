package quant

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"google.golang.org/protobuf/proto"
)

// TestPoolsAfterConvs moves the real backbone's average pools after
// their 1×1 convolutions and checks that, run in float, it gives the
// float model's features up to float rounding; that each of the nine pool
// branches now pools the convolution's narrower output; and that the
// 8-bit model QDQ makes of it is fused by ONNX Runtime into integer
// kernels for both the convolution and the pool.
func TestPoolsAfterConvs(t *testing.T) {
	m, floatBytes := featureModelBytes(t)
	before := proto.Clone(m)
	p := PoolsAfterConvs(m)
	if !proto.Equal(m, before) {
		t.Fatal("PoolsAfterConvs changed the model it was given")
	}

	// The graph: every average pool reads a 1×1 convolution of fewer
	// output than input channels, and a ReLU reads the pool.
	g := p.GetGraph()
	producer := map[string]*onnx.NodeProto{}
	readers := map[string][]*onnx.NodeProto{}
	for _, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			producer[o] = n
		}
		for _, in := range n.GetInput() {
			readers[in] = append(readers[in], n)
		}
	}
	inits := map[string]*onnx.TensorProto{}
	for _, i := range g.GetInitializer() {
		inits[i.GetName()] = i
	}
	seen := map[string]bool{} // values produced so far: the order stays topological
	for _, i := range g.GetInput() {
		seen[i.GetName()] = true
	}
	pools := 0
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			if !seen[in] && inits[in] == nil {
				t.Fatalf("node %s reads %s before it is produced", n.GetName(), in)
			}
		}
		for _, o := range n.GetOutput() {
			seen[o] = true
		}
		if n.GetOpType() != "AveragePool" {
			continue
		}
		pools++
		conv := producer[n.GetInput()[0]]
		if conv == nil || conv.GetOpType() != "Conv" {
			t.Fatalf("average pool %s reads %s, not a convolution", n.GetName(), n.GetInput()[0])
		}
		k := inits[conv.GetInput()[1]].GetDims()
		if k[2] != 1 || k[3] != 1 || k[0] >= k[1] {
			t.Errorf("average pool %s pools convolution %s of kernel %v: want 1×1 to fewer channels", n.GetName(), conv.GetName(), k)
		}
		if r := readers[n.GetOutput()[0]]; len(r) != 1 || r[0].GetOpType() != "Relu" {
			t.Errorf("average pool %s is read by %d nodes, want one ReLU", n.GetName(), len(r))
		}
	}
	if pools != 9 {
		t.Errorf("%d average pools, want InceptionV3's 9 (mixed0–2, 4–7, 9, 10)", pools)
	}

	// The features, in float: equal up to rounding.
	rt, err := onnxrt.Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	eng := onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: 2}}
	pets, flowers := testPhotos(t)
	in := images(t, []string{pets[0], pets[len(pets)/2], flowers[0], flowers[len(flowers)/2]})
	pBytes, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want, got := runFeatures(t, eng, floatBytes, in, 4), runFeatures(t, eng, pBytes, in, 4)
	for i := range 4 {
		w, f := want[i*inception.Features:(i+1)*inception.Features], got[i*inception.Features:(i+1)*inception.Features]
		var top, diff float64
		for j := range w {
			top = max(top, math.Abs(float64(w[j])))
			diff = max(diff, math.Abs(float64(w[j]-f[j])))
		}
		// Float32 sums of a few thousand terms in another order: the
		// largest difference is a few units of the seventh digit.
		if diff > 1e-5*top {
			t.Errorf("photo %d: features differ by up to %g (largest feature %g), want float rounding", i, diff, top)
		}
	}

	// The 8-bit model: ONNX Runtime fuses each pooled convolution into a
	// QLinearConv and each pool into a QLinearAveragePool that reads it
	// (its ReLU folded into the pool's output quantisation).
	r := Ranges{}
	for _, a := range Activations(p) {
		r[a] = Range{0, 6}
		if producer[a].GetOpType() == "Conv" {
			r[a] = Range{-6, 6} // before the ReLU
		}
	}
	q, err := QDQ(p, r)
	if err != nil {
		t.Fatal(err)
	}
	qBytes, err := proto.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, err := rt.NewSession(qBytes, inception.InputName, inception.OutputName,
		onnxrt.Options{Provider: onnxrt.CPU, Threads: 2, GraphCache: &onnxrt.GraphCache{Dir: dir, Key: "pools after convolutions"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	saved, _ := filepath.Glob(filepath.Join(dir, "graph-*.onnx"))
	if len(saved) != 1 {
		t.Fatalf("ONNX Runtime saved %d optimised graphs, want 1", len(saved))
	}
	data, err := os.ReadFile(saved[0])
	if err != nil {
		t.Fatal(err)
	}
	var opt onnx.ModelProto
	if err := proto.Unmarshal(data, &opt); err != nil {
		t.Fatalf("read %s: %v", saved[0], err)
	}
	optProducer := map[string]*onnx.NodeProto{}
	ops := map[string]int{}
	for _, n := range opt.GetGraph().GetNode() {
		for _, o := range n.GetOutput() {
			optProducer[o] = n
		}
		ops[n.GetOpType()]++
	}
	for _, n := range opt.GetGraph().GetNode() {
		if n.GetOpType() != "QLinearAveragePool" {
			continue
		}
		// The runtime's channels-last rewrite may put a Transpose in
		// between (mixed10's branches end in float NCHW).
		from := optProducer[n.GetInput()[0]]
		for from != nil && from.GetOpType() == "Transpose" {
			from = optProducer[from.GetInput()[0]]
		}
		if from.GetOpType() != "QLinearConv" {
			t.Errorf("optimised graph: QLinearAveragePool %s reads a %s, want a QLinearConv", n.GetName(), from.GetOpType())
		}
	}
	if ops["QLinearAveragePool"] != 9 || ops["AveragePool"] != 0 || ops["Relu"] != 0 {
		t.Errorf("optimised graph: %d QLinearAveragePool, %d AveragePool, %d Relu nodes; want 9, 0, 0 (all ops: %v)",
			ops["QLinearAveragePool"], ops["AveragePool"], ops["Relu"], ops)
	}
}
