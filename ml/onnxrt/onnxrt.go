// Package onnxrt runs ONNX models with ONNX Runtime, loaded at run time from
// its shared library (libonnxruntime.so, onnxruntime.dll or
// libonnxruntime.dylib) through github.com/yalue/onnxruntime_go.
//
// It adds what an application needs on top of the bindings: one
// environment per process shared safely by every session, with the
// library's telemetry off; execution provider selection with a fallback to
// the CPU; cancellation of a running inference through a context; and an
// Engine value that carries the user's choices to every session a job
// opens. It is the only package that imports the bindings: its sessions
// (Session, one input and output; MultiSession, many, for training steps)
// take and return Go slices, never the bindings' types.
package onnxrt

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// The ONNX Runtime environment is process-wide by construction (the library
// keeps it in a global, and a process can load the library once), so this
// package must track it in process-wide state too.
var env struct {
	sync.Mutex
	path    string
	version string
}

// Runtime is a loaded ONNX Runtime library.
type Runtime struct {
	// Path is the shared library file.
	Path string
	// Version is the library's version, e.g. "1.30.0".
	Version string
}

// Load loads the ONNX Runtime shared library at path and initialises its
// environment, with the library's usage telemetry off. Loading the same
// path again returns the same runtime; loading another library into the
// same process is an error.
func Load(path string) (*Runtime, error) {
	// The same file named two ways is the same library.
	if abs, err := filepath.Abs(path); err == nil && path != "" {
		path = abs
	}
	env.Lock()
	defer env.Unlock()
	if env.path != "" {
		if env.path != path {
			return nil, fmt.Errorf("load ONNX Runtime %s: %s is already loaded in this process", path, env.path)
		}
		return &Runtime{Path: env.path, Version: env.version}, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load ONNX Runtime: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("load ONNX Runtime: %s is a folder, not the library file", path)
	}
	// The library records usage telemetry by default: on Linux and macOS
	// a device id and a database of events under
	// ~/.cache/Microsoft/DeveloperTools/.onnxruntime, to be uploaded when
	// the machine is online; on Windows, events for Windows' tracing.
	// Clasifica promises that nothing leaves the computer. The recording
	// starts with the environment, so the variable the library reads must
	// be set before it loads; DisableTelemetryEvents then turns off what
	// the environment itself sends (Windows' tracing).
	if err := os.Setenv("ORT_DISABLE_TELEMETRY", "1"); err != nil {
		return nil, fmt.Errorf("load ONNX Runtime %s: turn its telemetry off: %w", path, err)
	}
	ort.SetSharedLibraryPath(path)
	// Failures come back as errors; the library's own logging would
	// print, for example, every accelerator it fails to find.
	if err := ort.InitializeEnvironment(ort.WithLogLevelFatal()); err != nil {
		return nil, fmt.Errorf("load ONNX Runtime %s: %w", path, err)
	}
	if err := ort.DisableTelemetry(); err != nil {
		ort.DestroyEnvironment()
		return nil, fmt.Errorf("load ONNX Runtime %s: turn its telemetry off: %w", path, err)
	}
	env.path, env.version = path, ort.GetVersion()
	return &Runtime{Path: path, Version: env.version}, nil
}

// Provider names an execution provider.
type Provider string

// Execution providers Clasifica can use. Auto tries the accelerators the
// platform may have, in the order AutoOrder gives, and falls back to the
// CPU.
const (
	Auto     Provider = "auto"
	CPU      Provider = "cpu"
	CUDA     Provider = "cuda"
	DirectML Provider = "directml"
	CoreML   Provider = "coreml"
	WebGPU   Provider = "webgpu"
)

// ParseProvider parses a provider name as users type it.
func ParseProvider(s string) (Provider, error) {
	switch p := Provider(strings.ToLower(strings.TrimSpace(s))); p {
	case "", Auto:
		return Auto, nil
	case CPU, CUDA, DirectML, CoreML, WebGPU:
		return p, nil
	}
	return "", fmt.Errorf("unknown execution provider %q (want auto, cpu, cuda, directml, coreml or webgpu)", s)
}

// String returns the provider's display name.
func (p Provider) String() string {
	switch p {
	case CPU:
		return "CPU"
	case CUDA:
		return "CUDA"
	case DirectML:
		return "DirectML"
	case CoreML:
		return "CoreML"
	case WebGPU:
		return "WebGPU"
	case Auto:
		return "Automatic"
	}
	return string(p)
}

// AutoOrder lists the providers Auto tries on the operating system goos
// (runtime.GOOS), best first; the CPU is always last. It is also the list
// of providers worth offering on that system: the others are not in its
// ONNX Runtime builds.
func AutoOrder(goos string) []Provider {
	switch goos {
	case "windows":
		return []Provider{CUDA, DirectML, WebGPU, CPU}
	case "darwin":
		return []Provider{CoreML, WebGPU, CPU}
	}
	return []Provider{CUDA, WebGPU, CPU}
}

// Options configure a session.
type Options struct {
	// Provider selects the execution provider; the zero value means Auto.
	Provider Provider
	// Threads is the number of threads the CPU provider uses within one
	// operator; 0 means one per CPU core.
	Threads int
	// Strict makes NewSession fail, rather than fall back to the CPU, when
	// the named Provider cannot run the session. Benchmarks and checks
	// that compare providers need it; Auto ignores it.
	Strict bool
	// Device is the GPU's index for CUDA and DirectML; 0 is the first.
	Device int
	// LowPower asks WebGPU for the power-saving adapter (an integrated
	// GPU) instead of the high-performance one.
	LowPower bool
	// ProviderOptions are added to the CUDA or WebGPU provider's options
	// as they are, after Clasifica's own: for measuring a provider's
	// settings (bench --provider-option) before one becomes a default.
	ProviderOptions map[string]string
	// ReleaseMemory gives the memory of a run's intermediate values back
	// when the run ends, instead of keeping it in ONNX Runtime's CPU arena
	// for the next run. Sessions whose runs alternate with other large
	// work, as training's do, need it so that their peaks do not add up
	// (without it, fine-tuning held 0.4–0.6 GB more); it costs inference a
	// few percent. It also turns off ONNX Runtime's memory pattern, whose
	// one block per run would be mapped and faulted in afresh each run.
	ReleaseMemory bool
	// GraphCache, when set with a Key and a Dir, keeps the optimised
	// graph of a CPU session on disk and builds the next session of the
	// same model from it (see GraphCache).
	GraphCache *GraphCache
	// Spin says when the CPU provider's threads spin, waiting for work,
	// instead of sleeping; the zero value is the session kind's own.
	Spin Spin
	// Profile, when not empty, turns on ONNX Runtime's profiler: each
	// session writes the time of every node of every run to a JSON file
	// whose name starts with Profile, when it is closed. For tools that
	// find where a step's time goes (tools/profile-step).
	Profile string
	// GraphCapture makes a GPU provider capture a run and replay it at the
	// next runs (CUDA: a CUDA graph, its enable_cuda_graph option; WebGPU:
	// its enableGraphCapture), which saves launching each of a training
	// step's hundreds of kernels. The runs must go through a Binding (see
	// Binding.SetGraphID) whose inputs and outputs are device values, at
	// the same addresses and of the same shapes every run, and every node
	// must run on the provider. The CPU ignores it. Off by default: it is
	// measured on a GPU machine before it is the default anywhere.
	GraphCapture bool
}

// Spin says when the CPU provider's threads spin while they wait for work:
// a spinning thread takes its next piece at once, a sleeping one must be
// woken, but spinning takes the core from whatever else runs there.
type Spin int

const (
	// SpinDefault is the session kind's own: a Session's threads spin
	// after each operator and run (ONNX Runtime's default); a
	// MultiSession's never do, since Go works on the same cores between
	// its runs (spinning threads made the head's epoch 15% slower).
	SpinDefault Spin = iota
	// SpinNever: the threads sleep between operators and runs. For
	// sessions whose runs share the cores with other work, such as
	// decoding the next photos.
	SpinNever
	// SpinInRuns: the threads spin between the operators of a run and
	// stop when it ends. For a training step's hundreds of operators,
	// each handing work to the threads: waking a sleeping thread for each
	// cost fine-tuning on 2 threads 5% of its time (0.93× PyTorch's speed
	// without, 0.98× with).
	SpinInRuns
)

// Unavailable says why a provider cannot run a session.
type Unavailable struct {
	Provider Provider
	Reason   string
}

func (u Unavailable) Error() string { return fmt.Sprintf("%s unavailable: %s", u.Provider, u.Reason) }

// Placement says where a session really runs: not the provider that was
// asked for, but the one ONNX Runtime assigned the model's layers to.
type Placement struct {
	// Requested is the provider that was asked for (Auto, or a name).
	Requested Provider
	// Provider runs the model's layers.
	Provider Provider
	// Device names the adapter or card where the system reports it
	// ("NVIDIA GeForce RTX 4070"); empty when unknown.
	Device string
	// Partial, when not empty, says that some layers run on the CPU
	// because Provider has no kernel for them.
	Partial string
	// Skipped lists the providers tried before Provider, and why each
	// could not run the session.
	Skipped []Unavailable
}

// String describes the placement in a few words: "WebGPU (NVIDIA …)",
// "CUDA, some layers on the CPU", "CPU".
func (p Placement) String() string {
	s := p.Provider.String()
	if p.Device != "" {
		s += " (" + p.Device + ")"
	}
	if p.Partial != "" {
		s += ", some layers on the CPU"
	}
	return s
}

// Session is a loaded model with one input and one output tensor of
// float32, the shape Clasifica's models have. Its methods may be called
// from several goroutines; their inferences run one after another.
type Session struct {
	s         *ort.DynamicAdvancedSession
	input     string
	output    string
	opt       Options
	placement Placement
	// run lets one inference run at a time: each already uses every
	// intra-op thread, so two at once would only fight over the cores
	// (and the arena) and finish no sooner.
	run sync.Mutex
}

// candidates lists the providers to try, in order, for opt on this
// platform: Auto's order, or the one asked for and then the CPU (only it
// with opt.Strict). MultiSessions try them in the same order.
func candidates(opt Options) []Provider {
	switch p := opt.Provider; {
	case p == "" || p == Auto:
		return AutoOrder(runtime.GOOS)
	case p == CPU || opt.Strict:
		return []Provider{p}
	default:
		return []Provider{p, CPU}
	}
}

// NewSession creates a session for the ONNX model in model, reading input
// and producing output. When the requested accelerator is unavailable in
// this library or on this machine, the session runs on the CPU (unless
// opt.Strict) and Placement says why.
//
// What runs is checked, not assumed: a provider that ONNX Runtime accepts
// may still take none of the model's layers (a CUDA build missing cuDNN,
// DirectML without a usable adapter), and ONNX Runtime then quietly runs
// them all on the CPU. So an accelerator's session is first built with
// "session.disable_cpu_ep_fallback", which makes ONNX Runtime refuse a
// session with any layer left to the CPU. When that refusal comes, a tiny
// model of the same kinds of layers is tried the same way (Probe): if the
// provider cannot run even that, it is unavailable; if it can, the session
// is built again with fallback allowed and Placement.Partial says so.
func (r *Runtime) NewSession(model []byte, input, output string, opt Options) (*Session, error) {
	requested := opt.Provider
	if requested == "" {
		requested = Auto
	}
	var skipped []Unavailable
	for _, p := range candidates(opt) {
		s, err := r.newSessionOn(model, input, output, p, opt)
		if err == nil {
			s.placement.Requested = requested
			s.placement.Skipped = skipped
			return s, nil
		}
		var u Unavailable
		if !errors.As(err, &u) || p == CPU {
			if len(skipped) > 0 {
				err = fmt.Errorf("%w (%v)", err, joinUnavailable(skipped))
			}
			return nil, fmt.Errorf("create ONNX Runtime session: %w", err)
		}
		skipped = append(skipped, u)
	}
	return nil, fmt.Errorf("create ONNX Runtime session: %w", joinUnavailable(skipped))
}

func joinUnavailable(us []Unavailable) error {
	errs := make([]error, len(us))
	for i, u := range us {
		errs[i] = u
	}
	return errors.Join(errs...)
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// newSessionOn builds the session on p alone. Errors that mean p cannot
// run it are Unavailable; others (a damaged model) are returned as they
// are.
func (r *Runtime) newSessionOn(model []byte, input, output string, p Provider, opt Options) (*Session, error) {
	if p == CPU {
		s, err := build(model, input, output, CPU, opt, false)
		if err != nil {
			return nil, err
		}
		s.placement.Provider = CPU
		return s, nil
	}
	s, err := build(model, input, output, p, opt, true)
	if err == nil {
		s.placement.Provider, s.placement.Device = p, deviceName(p, opt)
		return s, nil
	}
	var u Unavailable
	if errors.As(err, &u) {
		u.Reason = r.explain(p, u.Reason)
		return nil, u
	}
	if !isFallbackRefusal(err) {
		return nil, Unavailable{p, "the session could not be built on it: " + firstLine(err)}
	}
	// Some layers, or all of them, would run on the CPU. Which one?
	if st := r.Probe(p, opt); !st.Available {
		return nil, Unavailable{p, "ONNX Runtime accepted it but placed no layer on it: " + st.Reason}
	}
	s, err = build(model, input, output, p, opt, false)
	if err != nil {
		return nil, Unavailable{p, "the session could not be built on it: " + firstLine(err)}
	}
	s.placement.Provider, s.placement.Device = p, deviceName(p, opt)
	s.placement.Partial = "ONNX Runtime has no " + p.String() + " kernel for some of the model's layers; they run on the CPU"
	return s, nil
}

// isFallbackRefusal reports whether err is ONNX Runtime refusing a session
// with layers assigned to the CPU while "session.disable_cpu_ep_fallback"
// is set.
func isFallbackRefusal(err error) bool {
	s := err.Error()
	return strings.Contains(s, "assigned to the default CPU EP") || strings.Contains(s, "fallback to CPU EP has been explicitly disabled")
}

// build creates the session on p; with strict, ONNX Runtime must assign
// every layer to p. Failing to add p to the options is Unavailable.
func build(model []byte, input, output string, p Provider, opt Options, strict bool) (*Session, error) {
	if c := opt.GraphCache; p == CPU && c != nil && c.Key != "" && c.Dir != "" {
		return buildCached(model, input, output, opt)
	}
	var config map[string]string
	if strict && p != CPU {
		config = map[string]string{"session.disable_cpu_ep_fallback": "1"}
	}
	s, err := newAdvanced(model, []string{input}, []string{output}, p, inferenceDefaults(p, opt), config)
	if err != nil {
		return nil, err
	}
	return &Session{s: s, input: input, output: output, opt: withoutCache(opt)}, nil
}

// inferenceDefaults adds the provider options that speed up inference
// sessions, unless opt sets them. CUDA runs convolutions in NHWC (what
// its tensor cores want; cuDNN otherwise transposes around each one): on
// an H200 batches of 1, 8 and 32 ran 1.51, 1.06 and 1.06 times as fast.
// Training graphs keep NCHW: their fine-tuning steps were a third slower
// in NHWC.
func inferenceDefaults(p Provider, opt Options) Options {
	if p != CUDA {
		return opt
	}
	if _, ok := opt.ProviderOptions["prefer_nhwc"]; ok {
		return opt
	}
	o := maps.Clone(opt.ProviderOptions)
	if o == nil {
		o = map[string]string{}
	}
	o["prefer_nhwc"] = "1"
	opt.ProviderOptions = o
	return opt
}

// newAdvanced is where every session of this package is made: the model
// on p with opt (see newSessionOptions) and the session configuration
// entries in config. On a GPU provider, what the drivers print while they
// start stays out of the terminal (quiet): on a machine without the GPU it
// is alarming noise ("error: XDG_RUNTIME_DIR is invalid or not set",
// Vulkan warnings), and the error or the session's placement says what
// happened.
func newAdvanced(model []byte, inputs, outputs []string, p Provider, opt Options, config map[string]string) (s *ort.DynamicAdvancedSession, err error) {
	if p == CPU {
		return newAdvancedLoud(model, inputs, outputs, p, opt, config)
	}
	quiet(func() { s, err = newAdvancedLoud(model, inputs, outputs, p, opt, config) })
	return s, err
}

func newAdvancedLoud(model []byte, inputs, outputs []string, p Provider, opt Options, config map[string]string) (*ort.DynamicAdvancedSession, error) {
	so, err := newSessionOptions(p, opt)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	for k, v := range config {
		if err := so.AddSessionConfigEntry(k, v); err != nil {
			return nil, err
		}
	}
	return ort.NewDynamicAdvancedSessionWithONNXData(model, inputs, outputs, so)
}

// newSessionOptions returns ONNX Runtime session options that run on p,
// with opt's threads (one per core when 0) and p's settings from opt (GPU
// number, power preference). Failing to add p is an Unavailable error.
// The caller destroys the options.
func newSessionOptions(p Provider, opt Options) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if err := so.SetIntraOpNumThreads(threads); err != nil {
		so.Destroy()
		return nil, err
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		so.Destroy()
		return nil, err
	}
	var spin map[string]string
	switch opt.Spin {
	case SpinNever:
		spin = map[string]string{"session.intra_op.allow_spinning": "0"}
	case SpinInRuns:
		spin = map[string]string{"session.intra_op.allow_spinning": "1", "session.force_spinning_stop": "1"}
	}
	for k, v := range spin {
		if err := so.AddSessionConfigEntry(k, v); err != nil {
			so.Destroy()
			return nil, err
		}
	}
	if opt.ReleaseMemory {
		if err := so.SetCpuMemArena(false); err != nil {
			so.Destroy()
			return nil, err
		}
		// Without the arena, a memory pattern is one block of the whole
		// run's size, mapped fresh and faulted in page by page on every
		// run (a tenth of a fine-tuning step's CPU time went to the
		// kernel). Without the pattern each value is its own allocation,
		// which the C library reuses from run to run and still gives back
		// between runs when it has to.
		if err := so.SetMemPattern(false); err != nil {
			so.Destroy()
			return nil, err
		}
	}
	if opt.Profile != "" {
		if err := so.EnableProfiling(opt.Profile); err != nil {
			so.Destroy()
			return nil, err
		}
	}
	if err := appendProvider(so, p, opt); err != nil {
		so.Destroy()
		return nil, Unavailable{p, firstLine(err)}
	}
	return so, nil
}

// appendProvider adds p, with the options that matter for Clasifica's
// models, to so.
func appendProvider(so *ort.SessionOptions, p Provider, opt Options) error {
	switch p {
	case CPU:
		return nil
	case CUDA:
		co, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return err
		}
		defer co.Destroy()
		if err := co.Update(cudaOptions(opt)); err != nil {
			return err
		}
		return so.AppendExecutionProviderCUDA(co)
	case DirectML:
		return so.AppendExecutionProviderDirectML(opt.Device)
	case CoreML:
		return so.AppendExecutionProviderCoreMLV2(map[string]string{"ModelFormat": "MLProgram"})
	case WebGPU:
		// The library's defaults otherwise suit these models: NHWC layout
		// and Dawn's default backend (D3D12, Metal or Vulkan).
		return so.AppendExecutionProvider("WebGPU", webgpuOptions(opt))
	}
	return fmt.Errorf("unknown execution provider %q", p)
}

// cudaOptions are the CUDA provider's options for opt.
func cudaOptions(opt Options) map[string]string {
	o := map[string]string{"device_id": strconv.Itoa(opt.Device)}
	if opt.GraphCapture {
		o["enable_cuda_graph"] = "1"
	}
	maps.Copy(o, opt.ProviderOptions)
	return o
}

// webgpuOptions are the WebGPU provider's options for opt.
func webgpuOptions(opt Options) map[string]string {
	o := map[string]string{"powerPreference": "high-performance"}
	if opt.LowPower {
		o["powerPreference"] = "low-power"
	}
	if opt.GraphCapture {
		o["enableGraphCapture"] = "1"
	}
	maps.Copy(o, opt.ProviderOptions)
	return o
}

// Provider reports the execution provider that runs the session's layers.
func (s *Session) Provider() Provider { return s.placement.Provider }

// Placement reports where the session really runs, and why the providers
// tried before it could not.
func (s *Session) Placement() Placement { return s.placement }

// Options reports the options the session was built with, as they were
// asked for (Placement says where it landed).
func (s *Session) Options() Options { return s.opt }

// FallbackReason reports why the session runs on the CPU rather than the
// requested accelerator, or nil.
func (s *Session) FallbackReason() error {
	if len(s.placement.Skipped) == 0 {
		return nil
	}
	return joinUnavailable(s.placement.Skipped)
}

// Run feeds input, of the given shape, to the model and returns the output
// tensor's values. Cancelling ctx stops a running inference within
// milliseconds; Run then returns ctx.Err().
func (s *Session) Run(ctx context.Context, input []float32, shape ...int64) ([]float32, error) {
	s.run.Lock()
	defer s.run.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.s == nil {
		return nil, errors.New("run model: the session is closed")
	}
	in, err := ort.NewTensor(ort.NewShape(shape...), input)
	if err != nil {
		return nil, fmt.Errorf("run model: input: %w", err)
	}
	defer in.Destroy()
	outputs := []ort.Value{nil}
	err = runTerminable(ctx, func(ro *ort.RunOptions) error {
		return s.s.RunWithOptions([]ort.Value{in}, outputs, ro)
	})
	if outputs[0] != nil {
		defer outputs[0].Destroy()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("run model: %w", err)
	}
	t, ok := outputs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("run model: output %s is not a float32 tensor", s.output)
	}
	return append([]float32(nil), t.GetData()...), nil
}

// Close releases the session.
func (s *Session) Close() error {
	// After a running inference.
	s.run.Lock()
	defer s.run.Unlock()
	if s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	giveBackMemory()
	return err
}

// runTerminable calls run with run options that cancelling ctx terminates,
// so that a running inference or training step stops within milliseconds.
// It returns run's error; the caller tells a termination by ctx.Err().
func runTerminable(ctx context.Context, run func(*ort.RunOptions) error) error {
	ro, err := ort.NewRunOptions()
	if err != nil {
		return err
	}
	defer ro.Destroy()
	return terminating(ctx, func() { _ = ro.Terminate() }, func() error { return run(ro) })
}

// terminating calls run while a watcher calls terminate if ctx is
// cancelled before run returns. It waits for the watcher, so that
// terminate is never called once it has returned (the run options it
// terminates may then be released).
func terminating(ctx context.Context, terminate func(), run func() error) error {
	finished := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			terminate()
		case <-finished:
		}
	}()
	err := run()
	close(finished)
	<-stopped
	return err
}
