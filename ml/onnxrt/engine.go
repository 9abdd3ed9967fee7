package onnxrt

import "errors"

// Engine is a loaded runtime with the options its sessions get: the
// provider, threads, GPU and power preference the user chose. It is a
// value, carried whole from the application to every part of a job that
// opens a session (inference, the feature pass of fine-tuning, the
// training steps), so that each runs where the user said. A part that
// needs a session option of its own (ReleaseMemory, a single thread for a
// tiny graph) sets it on its copy.
type Engine struct {
	Runtime *Runtime
	Options Options
	// OnBuild, when not nil, is called with each session the engine
	// builds, as it is built: a log of where every part of a job runs.
	OnBuild func(Built)
}

// Built describes a session an Engine built.
type Built struct {
	// Inputs and Outputs name the session's tensors.
	Inputs, Outputs []string
	// Options are the options it was built with.
	Options Options
	// Provider runs its layers.
	Provider Provider
}

// NewSession creates a session with one input and one output (see
// Runtime.NewSession) with the engine's options.
func (e Engine) NewSession(model []byte, input, output string) (*Session, error) {
	if e.Runtime == nil {
		return nil, errors.New("create ONNX Runtime session: no runtime loaded")
	}
	s, err := e.Runtime.NewSession(model, input, output, e.Options)
	if err == nil && e.OnBuild != nil {
		e.OnBuild(Built{Inputs: []string{input}, Outputs: []string{output}, Options: s.Options(), Provider: s.Provider()})
	}
	return s, err
}

// CachedSession returns the CPU session that the engine's GraphCache
// holds for a model of size bytes, without reading the model (see
// Runtime.CachedSession); false when it has none.
func (e Engine) CachedSession(size int, input, output string) (*Session, bool) {
	s, ok := e.Runtime.CachedSession(size, input, output, e.Options)
	if ok && e.OnBuild != nil {
		e.OnBuild(Built{Inputs: []string{input}, Outputs: []string{output}, Options: s.Options(), Provider: s.Provider()})
	}
	return s, ok
}

// NewMultiSession creates a session with several inputs and outputs (see
// Runtime.NewMultiSession) with the engine's options.
func (e Engine) NewMultiSession(model []byte, inputs, outputs []string) (*MultiSession, error) {
	s, err := e.Runtime.NewMultiSession(model, inputs, outputs, e.Options)
	if err == nil && e.OnBuild != nil {
		e.OnBuild(Built{Inputs: inputs, Outputs: outputs, Options: s.Options(), Provider: s.Provider()})
	}
	return s, err
}
