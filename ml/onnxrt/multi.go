package onnxrt

import (
	"context"
	"errors"
	"fmt"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Tensor is a float32 tensor in Go memory. ONNX Runtime reads inputs from
// and writes outputs into Data directly, without copies.
type Tensor struct {
	Data  []float32
	Shape []int64
}

// MultiSession runs a graph with several named inputs and outputs, such as
// a training step (data, targets and parameters in; loss, probabilities
// and gradients out). A MultiSession may be used by one goroutine at a
// time.
type MultiSession struct {
	s        *ort.DynamicAdvancedSession
	inputs   []string
	outputs  []string
	provider Provider
	opt      Options
}

// NewMultiSession creates a session for model with the named inputs and
// outputs. Options.Threads fixes the CPU provider's threads: the same
// model, inputs and thread count give bit-identical outputs. Providers are
// tried in the same order as NewSession's, with the same session options,
// except that the threads do not spin unless Options.Spin asks. Large training graphs
// want Options.ReleaseMemory, so that their steps' memory does not stay
// while Go works; small ones run faster without it.
func (r *Runtime) NewMultiSession(model []byte, inputs, outputs []string, opt Options) (*MultiSession, error) {
	if r == nil {
		return nil, errors.New("create ONNX Runtime session: no runtime loaded")
	}
	var errs []error
	for _, p := range candidates(opt) {
		s, err := newMulti(model, inputs, outputs, p, opt)
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", p, err))
	}
	return nil, fmt.Errorf("create ONNX Runtime session: %w", errors.Join(errs...))
}

// newMulti builds a MultiSession on p alone.
func newMulti(model []byte, inputs, outputs []string, p Provider, opt Options) (*MultiSession, error) {
	o := opt
	if o.Spin == SpinDefault {
		o.Spin = SpinNever
	}
	s, err := newAdvanced(model, inputs, outputs, p, o, nil)
	if err != nil {
		return nil, err
	}
	return &MultiSession{s: s, inputs: inputs, outputs: outputs, provider: p, opt: opt}, nil
}

// Provider reports the execution provider the session runs on.
func (s *MultiSession) Provider() Provider { return s.provider }

// Options reports the options the session was built with, as they were
// asked for (Provider says where it landed).
func (s *MultiSession) Options() Options { return s.opt }

// Run feeds in (one tensor per input, in the session's input order) and
// writes the outputs into out (one per output, with Data and Shape set to
// the output's size). Cancelling ctx terminates a running step within
// milliseconds; Run then returns ctx.Err().
func (s *MultiSession) Run(ctx context.Context, in, out []Tensor) error {
	if len(in) != len(s.inputs) || len(out) != len(s.outputs) {
		return fmt.Errorf("run graph: %d inputs and %d outputs, want %d and %d", len(in), len(out), len(s.inputs), len(s.outputs))
	}
	if s.s == nil {
		return errors.New("run graph: the session is closed")
	}
	values := make([]ort.Value, 0, len(in)+len(out))
	defer func() {
		for _, v := range values {
			v.Destroy()
		}
	}()
	wrap := func(kind, name string, t Tensor) (ort.Value, error) {
		v, err := ort.NewTensor(ort.NewShape(t.Shape...), t.Data)
		if err != nil {
			return nil, fmt.Errorf("run graph: %s %s: %w", kind, name, err)
		}
		values = append(values, v)
		return v, nil
	}
	ins := make([]ort.Value, len(in))
	for i, t := range in {
		v, err := wrap("input", s.inputs[i], t)
		if err != nil {
			return err
		}
		ins[i] = v
	}
	outs := make([]ort.Value, len(out))
	for i, t := range out {
		v, err := wrap("output", s.outputs[i], t)
		if err != nil {
			return err
		}
		outs[i] = v
	}
	err := runTerminable(ctx, func(ro *ort.RunOptions) error {
		return s.s.RunWithOptions(ins, outs, ro)
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("run graph: %w", err)
	}
	return nil
}

// holds counts the callers of HoldMemory that have not released.
var holds struct {
	sync.Mutex
	n int
}

// HoldMemory has the C library keep the memory that runs free, for the
// next runs to take again, until every release it returned has been
// called; the last release gives it back to the system. It is for a
// series of runs of a session with Options.ReleaseMemory, such as a
// training epoch's steps: each step allocates and frees the same values
// (hundreds of MB), and glibc, which otherwise gives the top of its heaps
// back when a run ends, had each step map and fault them in afresh
// (30,000 page faults a fine-tuning step, 5% of its CPU time in the
// kernel; 8,000 and 1% when held). The memory kept is what the next step
// takes anyway, so the process's peak does not grow; between the series,
// the memory goes back. Runs allocate in the C library's heap of the
// thread they run on: the caller keeps them on one (runtime.LockOSThread),
// or each thread's heap would keep a step's memory. The thresholds are
// the whole process's (glibc's mallopt); after the last release they stay
// at what glibc itself settles at once large values were freed (blocks
// up to 32 MB from the heaps, 64 MB free at a heap's top given back).
// Elsewhere than with glibc it does nothing.
func HoldMemory() (release func()) {
	holds.Lock()
	if holds.n == 0 {
		keepFreedMemory(true)
	}
	holds.n++
	holds.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			holds.Lock()
			defer holds.Unlock()
			if holds.n--; holds.n == 0 {
				keepFreedMemory(false)
				giveBackMemory()
			}
		})
	}
}

// Close releases the session.
func (s *MultiSession) Close() error {
	if s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	giveBackMemory()
	return err
}
