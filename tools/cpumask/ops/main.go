// Command ops shows what ONNX Runtime makes of an image model on this CPU:
// the operators of its optimised graph (which QDQ groups it fused into
// integer kernels such as QLinearConv, which convolutions it moved to the
// NCHWc layout) and, from its profiler, the time of each operator over a
// few runs. Run under tools/cpumask's library, it shows what the same
// runtime does on a CPU without AVX-512 or VNNI.
//
//	go run ./tools/cpumask/ops [--batch 8] [--runs 4] [--threads N] [--keep DIR] MODEL.onnx...
//	go run ./tools/cpumask/ops --identity
//
// The runtime comes from $ONNXRUNTIME_LIB. The model's first input is fed
// a fixed pattern of the shape its graph declares, the batch set to
// --batch; the first run (memory planning) is left out of the times.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"google.golang.org/protobuf/proto"
)

func main() {
	batch := flag.Int("batch", 8, "images per run")
	runs := flag.Int("runs", 4, "runs to time, after one untimed")
	threads := flag.Int("threads", 0, "CPU threads (0: one per core)")
	keep := flag.String("keep", "", "folder to keep the optimised graphs and profiles in (default: a temporary one, removed)")
	identity := flag.Bool("identity", false, "only print the CPU's identity as Clasifica keys its measurements (architecture, model, vector extensions from CPUID)")
	flag.Parse()
	if *identity {
		fmt.Println(onnxrt.CPUIdentity())
		return
	}
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: ops [--batch N] [--runs N] [--threads N] [--keep DIR] MODEL.onnx...")
		os.Exit(2)
	}
	rt, err := onnxrt.Load(os.Getenv("ONNXRUNTIME_LIB"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ops:", err)
		os.Exit(1)
	}
	fmt.Println("CPU:", onnxrt.CPUIdentity())
	for _, path := range flag.Args() {
		if err := show(rt, path, *batch, *runs, *threads, *keep); err != nil {
			fmt.Fprintln(os.Stderr, "ops:", err)
			os.Exit(1)
		}
	}
}

// readModel reads an ONNX file, returning its bytes and its graph.
func readModel(path string) ([]byte, *onnx.ModelProto, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, &m, nil
}

func show(rt *onnxrt.Runtime, path string, batch, runs, threads int, keep string) error {
	data, m, err := readModel(path)
	if err != nil {
		return err
	}
	input, shape, err := firstInput(m, batch)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	output := m.GetGraph().GetOutput()[0].GetName()

	dir := keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "cpumask-ops-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	dir = filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), ".onnx"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	opt := onnxrt.Options{
		Provider: onnxrt.CPU, Strict: true, Threads: threads,
		GraphCache: &onnxrt.GraphCache{Dir: dir, Key: path},
		Profile:    filepath.Join(dir, "profile"),
	}
	s, err := rt.NewSession(data, input, output, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	in := make([]float32, n)
	for i := range in {
		in[i] = float32(math.Sin(float64(i) * 0.001)) // a smooth image-like pattern in [-1, 1]
	}
	for i := 0; i <= runs; i++ {
		if _, err := s.Run(context.Background(), in, shape...); err != nil {
			s.Close()
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := s.Close(); err != nil {
		return err
	}

	graphs, _ := filepath.Glob(filepath.Join(dir, "graph-*.onnx"))
	profiles, _ := filepath.Glob(filepath.Join(dir, "profile*.json"))
	if len(graphs) != 1 || len(profiles) != 1 {
		return fmt.Errorf("%s: ONNX Runtime wrote %d optimised graphs and %d profiles in %s, want one each", path, len(graphs), len(profiles), dir)
	}
	fmt.Printf("\n%s, batch %d, %d runs timed\n", path, batch, runs)
	if err := countOps(graphs[0]); err != nil {
		return err
	}
	return opTimes(profiles[0])
}

// firstInput names the graph's first input that is not a weight and gives
// its shape with the batch (its first, usually symbolic, dimension) set.
func firstInput(m *onnx.ModelProto, batch int) (string, []int64, error) {
	weights := map[string]bool{}
	for _, t := range m.GetGraph().GetInitializer() {
		weights[t.GetName()] = true
	}
	for _, in := range m.GetGraph().GetInput() {
		if weights[in.GetName()] {
			continue
		}
		var shape []int64
		for i, d := range in.GetType().GetTensorType().GetShape().GetDim() {
			v := d.GetDimValue()
			if i == 0 {
				v = int64(batch)
			}
			if v <= 0 {
				return "", nil, fmt.Errorf("input %s: dimension %d is not fixed", in.GetName(), i)
			}
			shape = append(shape, v)
		}
		return in.GetName(), shape, nil
	}
	return "", nil, fmt.Errorf("no input")
}

// countOps prints the optimised graph's operators, by domain and type.
func countOps(path string) error {
	_, m, err := readModel(path)
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, n := range m.GetGraph().GetNode() {
		op := n.GetOpType()
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			op = d + "." + op
		}
		count[op]++
	}
	fmt.Printf("optimised graph: %d nodes\n", len(m.GetGraph().GetNode()))
	for _, op := range sortedByValue(count) {
		fmt.Printf("  %5d  %s\n", count[op], op)
	}
	// The element type of QLinearConv's weights says which integer
	// kernels run: on x86 without VNNI, ONNX Runtime may turn int8
	// weights into uint8 ones to keep AVX2's 16-bit sums from saturating.
	types := map[string]onnx.TensorProto_DataType{}
	for _, t := range m.GetGraph().GetInitializer() {
		types[t.GetName()] = onnx.TensorProto_DataType(t.GetDataType())
	}
	weights := map[string]int{}
	for _, n := range m.GetGraph().GetNode() {
		if n.GetOpType() == "QLinearConv" && len(n.GetInput()) > 3 {
			weights[types[n.GetInput()[3]].String()]++
		}
	}
	for _, t := range sortedByValue(weights) {
		fmt.Printf("  QLinearConv weights %s: %d\n", t, weights[t])
	}
	return nil
}

// opTimes prints the profiler's time of each operator type, the first
// run left out.
func opTimes(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var events []struct {
		Cat  string `json:"cat"`
		Name string `json:"name"`
		Ts   int64  `json:"ts"`
		Dur  int64  `json:"dur"` // microseconds
		Args struct {
			OpName string `json:"op_name"`
		} `json:"args"`
	}
	if err := json.Unmarshal(data, &events); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	firstEnd, runs, runTime := int64(math.MaxInt64), 0, int64(0)
	for _, e := range events {
		if e.Cat == "Session" && e.Name == "model_run" {
			runs++
			if end := e.Ts + e.Dur; end < firstEnd {
				firstEnd = end
			} else {
				runTime += e.Dur
			}
		}
	}
	byOp := map[string]int64{}
	var total int64
	for _, e := range events {
		if e.Cat == "Node" && strings.HasSuffix(e.Name, "_kernel_time") && e.Ts >= firstEnd {
			byOp[e.Args.OpName] += e.Dur
			total += e.Dur
		}
	}
	if runs < 2 || total == 0 {
		return fmt.Errorf("%s: %d runs profiled, nothing to sum after the first", path, runs)
	}
	fmt.Printf("operator time, %.1f ms a run (%.1f ms in operators):\n", float64(runTime)/1e3/float64(runs-1), float64(total)/1e3/float64(runs-1))
	for _, op := range sortedByValue(byOp) {
		fmt.Printf("  %5.1f%%  %8.1f ms  %s\n", 100*float64(byOp[op])/float64(total), float64(byOp[op])/1e3/float64(runs-1), op)
	}
	return nil
}

// sortedByValue returns m's keys, largest value first.
func sortedByValue[V int | int64](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
