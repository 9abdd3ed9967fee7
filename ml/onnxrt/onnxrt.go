// Package onnxrt runs ONNX models with ONNX Runtime, loaded at run time from
// its shared library (libonnxruntime.so, onnxruntime.dll or
// libonnxruntime.dylib) through github.com/yalue/onnxruntime_go.
//
// It adds what an application needs on top of the bindings: one
// environment per process shared safely by every session, execution
// provider selection with a fallback to the CPU, and cancellation of a
// running inference through a context.
package onnxrt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
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
// environment. Loading the same path again returns the same runtime;
// loading another library into the same process is an error.
func Load(path string) (*Runtime, error) {
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
	ort.SetSharedLibraryPath(path)
	// Failures come back as errors; the library's own logging would
	// print, for example, every accelerator it fails to find.
	if err := ort.InitializeEnvironment(ort.WithLogLevelFatal()); err != nil {
		return nil, fmt.Errorf("load ONNX Runtime %s: %w", path, err)
	}
	env.path, env.version = path, ort.GetVersion()
	return &Runtime{Path: path, Version: env.version}, nil
}

// Provider names an execution provider.
type Provider string

// Execution providers Clasifica can use. Auto tries the accelerators the
// platform may have, in order, and falls back to the CPU.
const (
	Auto     Provider = "auto"
	CPU      Provider = "cpu"
	CUDA     Provider = "cuda"
	DirectML Provider = "directml"
	CoreML   Provider = "coreml"
)

// ParseProvider parses a provider name as users type it.
func ParseProvider(s string) (Provider, error) {
	switch p := Provider(strings.ToLower(strings.TrimSpace(s))); p {
	case "", Auto:
		return Auto, nil
	case CPU, CUDA, DirectML, CoreML:
		return p, nil
	}
	return "", fmt.Errorf("unknown execution provider %q (want auto, cpu, cuda, directml or coreml)", s)
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
	}
	return string(p)
}

// Options configure a session.
type Options struct {
	// Provider selects the execution provider; the zero value means Auto.
	Provider Provider
	// Threads is the number of threads the CPU provider uses within one
	// operator; 0 means one per CPU core.
	Threads int
}

// Session is a loaded model with one input and one output tensor of
// float32, the shape Clasifica's models have. Its methods may be called
// from several goroutines; their inferences run one after another.
type Session struct {
	s        *ort.DynamicAdvancedSession
	input    string
	output   string
	provider Provider
	fallback error // why Auto or a named provider fell back to the CPU
	// run lets one inference run at a time: each already uses every
	// intra-op thread, so two at once would only fight over the cores
	// (and the arena) and finish no sooner.
	run sync.Mutex
}

// candidates lists the providers to try for p on this platform.
func candidates(p Provider) []Provider {
	if p == "" || p == Auto {
		switch runtime.GOOS {
		case "windows":
			return []Provider{CUDA, DirectML, CPU}
		case "darwin":
			return []Provider{CoreML, CPU}
		}
		return []Provider{CUDA, CPU}
	}
	if p == CPU {
		return []Provider{CPU}
	}
	return []Provider{p, CPU}
}

// NewSession creates a session for the ONNX model in model, reading input
// and producing output. When the requested accelerator is unavailable in
// this library or on this machine, the session runs on the CPU and
// FallbackReason says why.
func (r *Runtime) NewSession(model []byte, input, output string, opt Options) (*Session, error) {
	var reasons []string
	for _, p := range candidates(opt.Provider) {
		s, err := newSession(model, input, output, p, opt.Threads)
		if err == nil {
			if len(reasons) > 0 {
				s.fallback = errors.New(strings.Join(reasons, "; "))
			}
			return s, nil
		}
		if p == CPU {
			return nil, fmt.Errorf("create ONNX Runtime session: %w", err)
		}
		reasons = append(reasons, fmt.Sprintf("%s unavailable: %v", p, firstLine(err)))
	}
	return nil, errors.New("create ONNX Runtime session: no execution provider")
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func newSession(model []byte, input, output string, p Provider, threads int) (*Session, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if err := so.SetIntraOpNumThreads(threads); err != nil {
		return nil, err
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	switch p {
	case CUDA:
		co, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return nil, err
		}
		defer co.Destroy()
		if err := so.AppendExecutionProviderCUDA(co); err != nil {
			return nil, err
		}
	case DirectML:
		if err := so.AppendExecutionProviderDirectML(0); err != nil {
			return nil, err
		}
	case CoreML:
		if err := so.AppendExecutionProviderCoreMLV2(map[string]string{"ModelFormat": "MLProgram"}); err != nil {
			return nil, err
		}
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{input}, []string{output}, so)
	if err != nil {
		return nil, err
	}
	return &Session{s: s, input: input, output: output, provider: p}, nil
}

// Provider reports the execution provider the session runs on.
func (s *Session) Provider() Provider { return s.provider }

// FallbackReason reports why the session runs on the CPU rather than the
// requested accelerator, or nil.
func (s *Session) FallbackReason() error { return s.fallback }

// Run feeds input, of the given shape, to the model and returns the output
// tensor's values. Cancelling ctx stops a running inference within
// milliseconds; Run then returns ctx.Err().
func (s *Session) Run(ctx context.Context, input []float32, shape ...int64) ([]float32, error) {
	s.run.Lock()
	defer s.run.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in, err := ort.NewTensor(ort.NewShape(shape...), input)
	if err != nil {
		return nil, fmt.Errorf("run model: input: %w", err)
	}
	defer in.Destroy()
	ro, err := ort.NewRunOptions()
	if err != nil {
		return nil, fmt.Errorf("run model: %w", err)
	}
	defer ro.Destroy()
	finished := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			_ = ro.Terminate()
		case <-finished:
		}
	}()
	outputs := []ort.Value{nil}
	err = s.s.RunWithOptions([]ort.Value{in}, outputs, ro)
	close(finished)
	<-stopped
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
	if s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	return err
}
