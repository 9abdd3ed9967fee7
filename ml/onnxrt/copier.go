package onnxrt

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/onnx"
)

// Copier copies values between a device and Go memory: the weights that
// start a device-resident training run, and those read back for a
// snapshot or the trained model. It runs a one-node graph (Identity) on
// the device's provider, with the source bound as its input and the
// destination as its output, so the runtime's own transfers for that
// provider do the copy: nothing here depends on an API that only some
// providers implement. Copies are for the edges of a run (a few per
// epoch), not for steps, except a step's batch where the device replays
// the step's graph (Copy) and needs it at a fixed address.
type Copier struct {
	s *MultiSession
	b *Binding
}

// identityModel is a graph copying its input x, of any shape, to y.
func identityModel() ([]byte, error) {
	g := onnx.NewGraph("copy")
	elem := int32(onnx.TensorProto_FLOAT)
	// No shape: any rank goes.
	anyShape := func(name string) *onnx.ValueInfoProto {
		return &onnx.ValueInfoProto{Name: proto.String(name), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{ElemType: &elem}}}}
	}
	g.Proto().Input = append(g.Proto().Input, anyShape("x"))
	g.Node("Identity", "y", []string{"x"})
	g.Proto().Output = append(g.Proto().Output, anyShape("y"))
	return proto.Marshal(g.Model("clasifica-copy", "", nil, nil))
}

// NewCopier returns a copier for values of s's device: its session runs on
// the provider s landed on, with s's options (no profile, one thread).
func (s *MultiSession) NewCopier() (*Copier, error) {
	model, err := identityModel()
	if err != nil {
		return nil, fmt.Errorf("copier: %w", err)
	}
	opt := s.opt
	opt.Provider, opt.Strict, opt.Threads, opt.Profile, opt.GraphCache = s.provider, true, 1, "", nil
	opt.GraphCapture = false // its runs copy values of every shape
	cs, err := newMulti(model, []string{"x"}, []string{"y"}, s.provider, opt)
	if err != nil {
		return nil, fmt.Errorf("copier on %s: %w", s.provider, err)
	}
	b, err := cs.NewBinding()
	if err != nil {
		cs.Close()
		return nil, fmt.Errorf("copier on %s: %w", s.provider, err)
	}
	return &Copier{s: cs, b: b}, nil
}

// copy runs the identity from src to dst.
func (c *Copier) copy(dst, src *Value) error {
	if err := c.b.BindInput("x", src); err != nil {
		return err
	}
	if err := c.b.BindOutput("y", dst); err != nil {
		return err
	}
	if err := c.b.Run(context.Background()); err != nil {
		return err
	}
	return c.b.SynchronizeOutputs()
}

// Copy copies src into dst, values of the same shape, each on the device
// or in host memory (NewHostValue): a step whose graph the provider
// replays (Options.GraphCapture) reads its batch from device values at fixed
// addresses, filled from host values each step.
func (c *Copier) Copy(dst, src *Value) error {
	if !slices.Equal(dst.shape, src.shape) {
		return fmt.Errorf("copy a value of shape %v into one of shape %v", src.shape, dst.shape)
	}
	if err := c.copy(dst, src); err != nil {
		return fmt.Errorf("copy a value of shape %v: %w", src.shape, err)
	}
	return nil
}

// ToHost copies the device value v into dst, which holds v.Len() floats.
func (c *Copier) ToHost(dst []float32, v *Value) error {
	if len(dst) != v.Len() {
		return fmt.Errorf("copy to host: %d floats for a value of shape %v", len(dst), v.shape)
	}
	h, err := NewHostValue(v.shape...)
	if err != nil {
		return fmt.Errorf("copy to host: %w", err)
	}
	defer h.Close()
	if err := c.copy(h, v); err != nil {
		return fmt.Errorf("copy to host: %w", err)
	}
	copy(dst, h.Data())
	return nil
}

// FromHost copies src, which holds v.Len() floats, into the device value v.
func (c *Copier) FromHost(v *Value, src []float32) error {
	if len(src) != v.Len() {
		return fmt.Errorf("copy to the device: %d floats for a value of shape %v", len(src), v.shape)
	}
	h, err := NewHostValue(v.shape...)
	if err != nil {
		return fmt.Errorf("copy to the device: %w", err)
	}
	defer h.Close()
	copy(h.Data(), src)
	if err := c.copy(v, h); err != nil {
		return fmt.Errorf("copy to the device: %w", err)
	}
	return nil
}

// Close releases the copier's binding and session.
func (c *Copier) Close() error {
	if c == nil || c.s == nil {
		return nil
	}
	c.b.Close()
	err := c.s.Close()
	c.s = nil
	return err
}
