// Command profile-step shows where one fine-tuning step's time goes: it
// runs fine-tuning steps of mixed9, mixed10 and the head (batch 32, from
// random mixed8 activations, as `clasifica bench` does) with ONNX
// Runtime's profiler on, then sums the profiler's per-node times by kind
// of work (forward, each kind of gradient, the optimiser, copies), by
// operator, and by the execution provider each node ran on, listing the
// nodes left to the CPU when the provider is a GPU (fallbacks, and the
// copies between host and device that they cost).
//
//	go run ./tools/profile-step [--backbone DIR] [--provider P] [--update device|host|auto] [--graph auto|fixed|dynamic] [--capture] [--threads N] [--warmup N] [--steps N] [--profile=false]
//	go run ./tools/profile-step --compare [--provider P] [--graph G] [--capture] [--steps N]
//
// --graph chooses the training graph (finetune.Config.Graph): fixed is the
// GPU providers' graph (the batch fixed when it is built, only operators
// the GPU providers run on the device), dynamic the CPU's; auto, the
// default, is what the app runs: fixed on a GPU, dynamic on the CPU.
// Where a node ran elsewhere than the provider asked for, the summary
// names it. --warmup runs steps before the timed ones (they are in the
// profile too), and --profile=false times the steps without the
// profiler. --capture has the provider capture a step and replay it (a
// CUDA graph on CUDA, WebGPU's graph capture; finetune.Config.GraphCapture,
// with the weights on the device and the fixed graph); with --compare it
// applies to the run updating in the graph.
//
// --compare profiles nothing: it trains the same steps with the update in
// Go and in the graph on the provider and prints both runs' losses and how
// far their weights differ (on the CPU: not at all).
//
// --update host copies the weights in and the gradients out every step and
// updates in Go; device keeps them in the provider's memory and updates in
// the graph (finetune.Config.Steps). On a GPU the profiler times what the
// host sees of each node (its launch, for asynchronous providers), so the
// per-node split there says where nodes ran more than how long each took;
// model_run is the step's wall time.
//
// The runtime comes from $ONNXRUNTIME_LIB, the backbone from --backbone or
// $CLASIFICA_TEST_BACKBONE. The first step (memory planning, first
// allocations) is left out of the sums.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/finetune"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

func main() {
	bb := flag.String("backbone", os.Getenv("CLASIFICA_TEST_BACKBONE"), "backbone folder or .h5 file")
	threads := flag.Int("threads", 0, "CPU threads (0: one per core)")
	steps := flag.Int("steps", 4, "fine-tuning steps to run (the first is not counted)")
	warmup := flag.Int("warmup", 0, "steps to run before the timed ones, untimed and unprofiled (memory planning, kernel compilation, graph capture)")
	profile := flag.Bool("profile", true, "run ONNX Runtime's profiler (false: time the steps only, without the profiler's own cost)")
	keep := flag.String("keep", "", "folder to keep the profiler's JSON files in (default: a temporary one, removed)")
	prov := flag.String("provider", "cpu", "execution provider: cpu, cuda, webgpu, directml, coreml (no fallback to the CPU)")
	update := flag.String("update", finetune.StepsAuto, "where SGD's update runs: device (weights stay in the provider's memory), host (in Go), auto")
	device := flag.Int("device", 0, "GPU number for CUDA and DirectML")
	capture := flag.Bool("capture", false, "have the provider capture a step and replay it (CUDA: a CUDA graph; WebGPU: graph capture; with --update device and the fixed graph)")
	graph := flag.String("graph", finetune.GraphAuto, "training graph: fixed (the GPU providers' graph: static batch, GPU operators), dynamic (the CPU's), auto")
	check := flag.Bool("compare", false, "compare the weights after --steps steps with the update in Go and in the graph, instead of profiling")
	flag.Parse()
	p, err := onnxrt.ParseProvider(*prov)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile-step:", err)
		os.Exit(2)
	}
	opt := onnxrt.Options{Provider: p, Strict: true, Threads: *threads, Device: *device}
	rt, err := onnxrt.Load(os.Getenv("ONNXRUNTIME_LIB"))
	if err == nil {
		var b *backbone.Backbone
		if b, err = backbone.Open(*bb); err == nil && *check {
			err = compare(rt, b, opt, *graph, *capture, *steps)
		} else if err == nil {
			err = run(rt, b, opt, runConfig{*update, *graph, *capture, *warmup, *steps, *profile, *keep})
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile-step:", err)
		os.Exit(1)
	}
}

// runConfig is what a profiled run does: the trainer's settings (update,
// graph, capture), the steps run untimed first and those timed, whether
// the profiler runs, and the folder that keeps its files.
type runConfig struct {
	update, graph string
	capture       bool
	warmup, steps int
	profile       bool
	keep          string
}

func run(rt *onnxrt.Runtime, b *backbone.Backbone, opt onnxrt.Options, rc runConfig) error {
	dir := rc.keep
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "profile-step-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if rc.profile {
		opt.Profile = filepath.Join(dir, "step")
	}
	eng := onnxrt.Engine{Runtime: rt, Options: opt}
	f, err := newFixture()
	if err != nil {
		return err
	}
	tcfg := finetune.DefaultConfig()
	tcfg.Steps, tcfg.Graph, tcfg.GraphCapture = rc.update, rc.graph, rc.capture
	tr, err := finetune.NewTrainer(b.Weights, f.h, f.mean, f.scale, tcfg, eng)
	if err != nil {
		return err
	}
	labels := func(steps int) []int {
		y := make([]int, steps*tcfg.BatchSize)
		for i := range y {
			y[i] = i % f.classes
		}
		return y
	}
	if rc.warmup > 0 {
		if _, err := tr.Epoch(context.Background(), f.load, labels(rc.warmup), nil); err != nil {
			tr.Close()
			return err
		}
	}
	steps := rc.steps
	n := steps * tcfg.BatchSize
	start, user0, sys0 := time.Now(), cpuTime(false), cpuTime(true)
	if _, err := tr.Epoch(context.Background(), f.load, labels(steps), nil); err != nil {
		tr.Close()
		return err
	}
	wall, sys := time.Since(start), cpuTime(true)-sys0
	cpu := cpuTime(false) - user0 + sys
	where, onDevice, why, rows, replays := tr.Provider(), tr.OnDevice(), tr.DeviceUnavailable(), tr.FixedBatch(), tr.CapturedSteps()
	in, out := tr.StepTransfer()
	if err := tr.Close(); err != nil { // writes the profiles
		return err
	}
	var files []string
	if rc.profile {
		if files, _ = filepath.Glob(filepath.Join(dir, "step*.json")); len(files) == 0 {
			return fmt.Errorf("no profile in %s", dir)
		}
	}
	path := "host (weights in, gradients out, update in Go)"
	if onDevice {
		path = "device (weights and velocities stay in " + where.String() + "'s memory, update in the graph)"
	}
	fmt.Printf("runs on: %s; steps: %s\n", where, path)
	if rows > 0 {
		fmt.Printf("graph: fixed, batch %d (the GPU providers' graph)\n", rows)
		if replays {
			if where == onnxrt.CPU {
				fmt.Println("steps: as captured steps run (the batch copied into values bound once); the CPU does not capture or replay")
			} else {
				fmt.Println("steps: captured and replayed by the provider (the batch copied into device values bound once)")
			}
		}
	} else {
		fmt.Println("graph: dynamic batch (the CPU's graph)")
	}
	if why != nil {
		fmt.Printf("not on the device: %v\n", why)
	}
	fmt.Printf("per step between Go and the runtime: %.1f MB in, %.3f MB out\n", float64(in)/1e6, float64(out)/1e6)
	if rc.warmup > 0 {
		fmt.Printf("%d steps of batch %d after %d warm-up steps in %.3f s: %.1f ms per step, %.3f s per 1,000 photos\n",
			steps, tcfg.BatchSize, rc.warmup, wall.Seconds(), wall.Seconds()/float64(steps)*1000, wall.Seconds()/float64(n)*1000)
	} else {
		fmt.Printf("%d steps of batch %d in %.2f s (%.1f s per 1,000 photos, first step included)\n", steps, tcfg.BatchSize, wall.Seconds(), wall.Seconds()/float64(n)*1000)
	}
	// On a shared machine the process's CPU time is steadier than the wall
	// clock (with --threads 1 it is close to what a quiet core would take).
	fmt.Printf("CPU time %.2f s (%.1f s per 1,000 photos; %.1f%% in the kernel), load average %s\n", cpu.Seconds(), cpu.Seconds()/float64(n)*1000, 100*sys.Seconds()/max(cpu.Seconds(), 1e-9), loadAverage())
	for _, f := range files {
		if err := summarise(f, where); err != nil {
			return err
		}
	}
	return nil
}

// cpuTime returns the CPU time the process has used in user space, or
// with sys in the kernel, all threads.
func cpuTime(sys bool) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if sys {
		return time.Duration(ru.Stime.Nano())
	}
	return time.Duration(ru.Utime.Nano())
}

// loadAverage returns the one-minute load average, or "unknown".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(data))[0]
}

// event is one record of ONNX Runtime's profile (Chrome trace format).
type event struct {
	Cat  string `json:"cat"`
	Name string `json:"name"`
	Dur  int64  `json:"dur"` // microseconds
	Args struct {
		OpName   string `json:"op_name"`
		Provider string `json:"provider"`
	} `json:"args"`
}

// epNames are ONNX Runtime's names of the providers' execution providers,
// as the profile gives them.
var epNames = map[onnxrt.Provider]string{
	onnxrt.CPU:      "CPUExecutionProvider",
	onnxrt.CUDA:     "CUDAExecutionProvider",
	onnxrt.WebGPU:   "WebGpuExecutionProvider",
	onnxrt.DirectML: "DmlExecutionProvider",
	onnxrt.CoreML:   "CoreMLExecutionProvider",
}

// summarise prints one profile's node times, the first run left out, and
// where the nodes ran: the provider p asked for, or not.
func summarise(path string, p onnxrt.Provider) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var events []event
	if err := json.Unmarshal(data, &events); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var runs []int64
	for _, e := range events {
		if e.Cat == "Session" && e.Name == "model_run" {
			runs = append(runs, e.Dur)
		}
	}
	if len(runs) < 2 {
		fmt.Printf("\n%s: %d runs, nothing to sum after the first\n", filepath.Base(path), len(runs))
		return nil
	}
	// Node events come in run order; skip those of the first run.
	perRun := 0
	for _, e := range events {
		if e.Cat == "Session" && e.Name == "model_run" {
			break
		}
		if e.Cat == "Node" && strings.HasSuffix(e.Name, "_kernel_time") {
			perRun++
		}
	}
	byKind, byOp, byEP := map[string]int64{}, map[string]int64{}, map[string]int64{}
	nodesOn := map[string]int{}
	away := map[string]int64{} // op on another provider than p's: time
	awayN := map[string]int{}
	awayNodes := map[string][]string{} // op on another provider: node names
	var total int64
	seen := 0
	for _, e := range events {
		if e.Cat != "Node" || !strings.HasSuffix(e.Name, "_kernel_time") {
			continue
		}
		seen++
		if seen <= perRun {
			continue
		}
		node := strings.TrimSuffix(e.Name, "_kernel_time")
		byKind[kind(node, e.Args.OpName)] += e.Dur
		byOp[e.Args.OpName] += e.Dur
		ep := e.Args.Provider
		if ep == "" {
			ep = "(not named)"
		}
		byEP[ep] += e.Dur
		nodesOn[ep]++
		if ep != epNames[p] {
			k := e.Args.OpName + " on " + ep
			away[k] += e.Dur
			awayN[k]++
			if !slices.Contains(awayNodes[k], node) {
				awayNodes[k] = append(awayNodes[k], node)
			}
		}
		total += e.Dur
	}
	var runTotal int64
	for _, r := range runs[1:] {
		runTotal += r
	}
	n := float64(len(runs) - 1)
	fmt.Printf("\n%s: %d runs counted, %.1f ms per run, of which nodes %.1f ms\n", filepath.Base(path), len(runs)-1, float64(runTotal)/n/1000, float64(total)/n/1000)
	print := func(title string, m map[string]int64, limit int) {
		type row struct {
			k string
			v int64
		}
		var rows []row
		for k, v := range m {
			rows = append(rows, row{k, v})
		}
		slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(b.v, a.v) })
		fmt.Printf("  %s\n", title)
		for i, r := range rows {
			if i == limit {
				break
			}
			fmt.Printf("    %-44s %8.1f ms %5.1f%%\n", r.k, float64(r.v)/n/1000, 100*float64(r.v)/float64(total))
		}
	}
	print("by kind of work", byKind, -1)
	print("by operator (top 15)", byOp, 15)
	print("by execution provider", byEP, -1)
	fmt.Printf("  nodes per run by execution provider:")
	for _, ep := range slices.Sorted(maps.Keys(nodesOn)) {
		fmt.Printf(" %s %d", ep, nodesOn[ep]/int(n))
	}
	fmt.Println()
	gpuKernels(events, len(runs))
	if len(away) == 0 {
		fmt.Printf("  every node ran on %s\n", p)
		return nil
	}
	// Per run: a node kind's count over the counted runs.
	for k, c := range awayN {
		awayN[k] = c / int(n)
	}
	fmt.Printf("  not on %s (CPU fallbacks and copies between host and device), nodes per run:\n", p)
	rows := slices.Collect(maps.Keys(away))
	slices.SortFunc(rows, func(a, b string) int { return cmp.Compare(away[b], away[a]) })
	for _, k := range rows {
		fmt.Printf("    %-56s %4d %8.1f ms\n", k, awayN[k], float64(away[k])/n/1000)
		names := awayNodes[k]
		more := ""
		if len(names) > 8 {
			names, more = names[:8], fmt.Sprintf(" and %d more", len(awayNodes[k])-8)
		}
		fmt.Printf("      nodes: %s%s\n", strings.Join(names, ", "), more)
	}
	return nil
}

// kind classifies a node of the training graph by the work it does, from
// the name package grad gives it (its prefix before "~") and its operator.
func kind(node, op string) string {
	prefix, _, _ := strings.Cut(node, "~")
	switch {
	case prefix == "conv_grad_x":
		return "conv input gradients (" + op + ")"
	case prefix == "conv_grad_x_kernel":
		return "conv input gradients: kernel layout"
	case prefix == "conv_grad_w_gemm":
		return "conv kernel gradients: products (" + op + ")"
	case strings.HasPrefix(prefix, "conv_grad_w"):
		return "conv kernel gradients: im2col and layout copies"
	case prefix == "sgd" || strings.HasSuffix(node, "/next"):
		return "optimiser: SGD in the graph"
	case op == "MemcpyToHost" || op == "MemcpyFromHost":
		return "copies between host and device (" + op + ")"
	case prefix == "conv_grad_b":
		return "conv bias gradients"
	case prefix == "relu_grad" || prefix == "relu_on":
		return "ReLU gradients"
	case prefix == "concat_grad" || prefix == "grad_sum":
		return "concat gradients (Split) and branch sums"
	case strings.HasSuffix(prefix, "_grad") || strings.Contains(prefix, "_grad_"):
		if strings.HasPrefix(prefix, "dense") {
			return "head gradients"
		}
		return "pooling and other gradients"
	case strings.HasPrefix(prefix, "dense") || strings.HasPrefix(prefix, "fused dense") ||
		strings.HasPrefix(prefix, "ce") || strings.HasPrefix(prefix, "loss") || strings.HasPrefix(prefix, "log_softmax") || prefix == "probs":
		return "head forward and loss"
	case op == "FusedConv" || op == "Conv":
		return "forward convolutions"
	case op == "ReorderInput" || op == "ReorderOutput":
		return "layout reorders (NCHWc)"
	}
	return "forward, other (" + op + ")"
}

// fixture is the synthetic fine-tuning problem every run here trains on:
// the default head for 10 classes and batches of one random mixed8
// activation (as bench's), labelled in turn.
type fixture struct {
	h           *head.Head
	mean, scale []float32
	load        finetune.Loader
	classes     int
}

func newFixture() (*fixture, error) {
	const classes = 10
	cfg := head.DefaultConfig()
	cfg.Seed = 1
	h, err := head.New(features.Dim, classes, cfg)
	if err != nil {
		return nil, err
	}
	f := &fixture{h: h, classes: classes, mean: make([]float32, features.Dim), scale: make([]float32, features.Dim)}
	for i := range f.scale {
		f.scale[i] = 1
	}
	acts := make([]float32, finetune.Dim)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range acts {
		acts[i] = rng.Float32()
	}
	f.load = func(_ context.Context, idx []int, dst []float32) error {
		for k := range idx {
			copy(dst[k*finetune.Dim:], acts)
		}
		return nil
	}
	return f, nil
}

// compare trains steps steps with the update in Go and in the graph and
// prints the losses and the difference of the trained weights.
func compare(rt *onnxrt.Runtime, b *backbone.Backbone, opt onnxrt.Options, graph string, capture bool, steps int) error {
	f, err := newFixture()
	if err != nil {
		return err
	}
	eng := onnxrt.Engine{Runtime: rt, Options: opt}
	train := func(update string) ([]float64, []float32, onnxrt.Provider, error) {
		cfg := finetune.DefaultConfig()
		cfg.Steps, cfg.Graph = update, graph
		cfg.GraphCapture = capture && update == finetune.StepsDevice
		tr, err := finetune.NewTrainer(b.Weights, f.h, f.mean, f.scale, cfg, eng)
		if err != nil {
			return nil, nil, "", err
		}
		defer tr.Close()
		y := make([]int, cfg.BatchSize)
		var losses []float64
		for s := range steps {
			for i := range y {
				y[i] = (i + s) % f.classes
			}
			st, err := tr.Epoch(context.Background(), f.load, y, nil)
			if err != nil {
				return nil, nil, "", err
			}
			losses = append(losses, st.Loss)
		}
		var w []float32
		units := tr.Units()
		for _, u := range finetune.TrainableUnits(cfg.Blocks) {
			w = append(w, units[u].Kernel...)
			w = append(w, units[u].Beta...)
		}
		th, err := tr.Head()
		if err != nil {
			return nil, nil, "", err
		}
		for _, l := range th.Layers() {
			w = append(w, l.Kernel...)
			w = append(w, l.Bias...)
		}
		return losses, w, tr.Provider(), nil
	}
	hl, hw, hp, err := train(finetune.StepsHost)
	if err != nil {
		return fmt.Errorf("update in Go: %w", err)
	}
	dl, dw, dp, err := train(finetune.StepsDevice)
	if err != nil {
		return fmt.Errorf("update in the graph: %w", err)
	}
	fmt.Printf("update in Go on %s, losses:        %v\n", hp, hl)
	fmt.Printf("update in the graph on %s, losses: %v\n", dp, dl)
	same, largest := 0, 0.0
	for i := range hw {
		if math.Float32bits(hw[i]) == math.Float32bits(dw[i]) {
			same++
		}
		largest = max(largest, math.Abs(float64(hw[i])-float64(dw[i])))
	}
	fmt.Printf("weights after %d steps: relative L2 difference %.2e, largest difference %.2e, %d of %d bit-identical\n",
		steps, onnxrt.RelL2(dw, hw), largest, same, len(hw))
	return nil
}

// gpuKernels prints the device's own timings, where the provider reports
// them ("Kernel" events: WebGPU with timestamp queries, CUDA builds with
// CUPTI): node events time what the host sees of an asynchronous
// provider, these the work on the GPU. They cannot be told apart by run,
// so the first run (kernels compiled, memory planned) is in the average.
func gpuKernels(events []event, runs int) {
	byName := map[string]int64{}
	var total int64
	count := 0
	for _, e := range events {
		if e.Cat != "Kernel" {
			continue
		}
		name, _, _ := strings.Cut(e.Name, "&")
		name, _, _ = strings.Cut(name, "|")
		byName[kind(name, e.Args.OpName)] += e.Dur
		total += e.Dur
		count++
	}
	if count == 0 {
		return
	}
	n := float64(runs)
	fmt.Printf("  on the device (the provider's own kernel timings, all %d runs): kernels per run %d, %.1f ms per run\n", runs, count/runs, float64(total)/n/1000)
	rows := slices.Collect(maps.Keys(byName))
	slices.SortFunc(rows, func(a, b string) int { return cmp.Compare(byName[b], byName[a]) })
	for i, k := range rows {
		if i == 10 {
			break
		}
		fmt.Printf("    %-44s %8.1f ms %5.1f%%\n", k, float64(byName[k])/n/1000, 100*float64(byName[k])/float64(total))
	}
}
