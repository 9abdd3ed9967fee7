package grad

import (
	"context"
	"errors"
	"fmt"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/clasifica/clasifica/ml/onnxrt"
)

// Tensor is a float32 tensor in Go memory. ONNX Runtime reads inputs from
// and writes outputs into Data directly, without copies.
type Tensor struct {
	Data  []float32
	Shape []int64
}

// Session runs a graph with several named inputs and outputs, such as a
// training step (data, targets and parameters in; loss, probabilities and
// gradients out). A Session may be used by one goroutine at a time.
type Session struct {
	s        *ort.DynamicAdvancedSession
	inputs   []string
	outputs  []string
	provider onnxrt.Provider
}

// NewSession creates a session for model on rt (which must be loaded: it
// initialises ONNX Runtime's environment). Options.Threads fixes the CPU
// provider's threads: the same model, inputs and thread count give
// bit-identical outputs. Providers are tried in onnxrt.Candidates' order,
// with the same session options as the inference sessions, except that
// its threads do not spin between runs. Large training graphs want
// onnxrt.Options.ReleaseMemory, so that their steps' memory does not stay
// while Go works; small ones run faster without it.
func NewSession(rt *onnxrt.Runtime, model []byte, inputs, outputs []string, opt onnxrt.Options) (*Session, error) {
	if rt == nil {
		return nil, errors.New("grad: session: no ONNX Runtime")
	}
	var errs []error
	for _, p := range onnxrt.Candidates(opt) {
		s, err := newSession(model, inputs, outputs, p, opt)
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", p, err))
	}
	return nil, fmt.Errorf("grad: create session: %w", errors.Join(errs...))
}

func newSession(model []byte, inputs, outputs []string, p onnxrt.Provider, opt onnxrt.Options) (*Session, error) {
	so, err := onnxrt.NewSessionOptions(p, opt)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	// ONNX Runtime's threads spin for a while after each run, waiting for
	// the next; between training steps the Go side updates the weights on
	// every core, and spinning threads took a core from it (the head's
	// epoch was 15% slower).
	if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
		return nil, err
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inputs, outputs, so)
	if err != nil {
		return nil, err
	}
	return &Session{s: s, inputs: inputs, outputs: outputs, provider: p}, nil
}

// Provider reports the execution provider the session runs on.
func (s *Session) Provider() onnxrt.Provider { return s.provider }

// Run feeds in (one tensor per input, in the session's input order) and
// writes the outputs into out (one per output, with Data and Shape set to
// the output's size). Cancelling ctx terminates a running step within
// milliseconds; Run then returns ctx.Err().
func (s *Session) Run(ctx context.Context, in, out []Tensor) error {
	if len(in) != len(s.inputs) || len(out) != len(s.outputs) {
		return fmt.Errorf("grad: run: %d inputs and %d outputs, want %d and %d", len(in), len(out), len(s.inputs), len(s.outputs))
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
			return nil, fmt.Errorf("grad: run: %s %s: %w", kind, name, err)
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
	err := onnxrt.RunTerminable(ctx, func(ro *ort.RunOptions) error {
		return s.s.RunWithOptions(ins, outs, ro)
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("grad: run: %w", err)
	}
	return nil
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
