package finetune

import (
	"context"
	"errors"
	"fmt"

	"github.com/clasifica/clasifica/ml/grad"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// Where a training step's optimiser update runs (Config.Steps).
const (
	// StepsAuto keeps the weights on the device where the provider is a
	// GPU, and updates in Go on the CPU, where that was measured faster.
	StepsAuto = "auto"
	// StepsDevice keeps the weights and the optimiser's state in the
	// provider's memory, updated inside the training graph: a step moves
	// the batch in and the loss and probabilities out.
	StepsDevice = "device"
	// StepsHost copies the weights into every step and the gradients out,
	// and updates the weights in Go.
	StepsHost = "host"
)

// onDevice reports whether the trainer with cfg on provider p keeps its
// weights on the device. Only SGD has its update in the graph; Adam's runs
// in Go. On the CPU, where nothing needs to cross to a device, the update
// stays in Go: in the graph it is some 360 small elementwise nodes, each
// handing work to the intra-op threads, and it measured 0.1 s a step in Go
// against about 1 s in the graph on a loaded 2-core Xeon (docs/ARCHITECTURE.md,
// "Fine-tuning on the device"). An undecided provider (Auto) gets the
// device graph; NewTrainer rebuilds for the host if the session lands on
// the CPU.
func onDevice(cfg Config, p onnxrt.Provider) bool {
	if cfg.Optimizer != SGD {
		return false
	}
	switch cfg.Steps {
	case StepsHost:
		return false
	case StepsDevice:
		return true
	}
	switch p {
	case onnxrt.CPU, onnxrt.CoreML: // CoreML: no memory Clasifica can bind
		return false
	}
	return true
}

// batchValues holds one batch size's values of what a step reads from Go
// and what it hands back: in host memory, or on the device where the
// provider replays a captured step.
type batchValues struct {
	x, mask, target, scale, loss, probs *onnxrt.Value
}

func (h *batchValues) close() {
	for _, v := range []*onnxrt.Value{h.x, h.mask, h.target, h.scale, h.loss, h.probs} {
		v.Close()
	}
}

// deviceSteps is a trainer's state on the device: two sets of weights and
// velocities (one read by a step, the other written, swapped after each
// step), a binding for each direction, and host values for the batch (and
// device values for it where the provider replays a captured step).
type deviceSteps struct {
	mem  *onnxrt.Memory
	cp   *onnxrt.Copier
	w, v [2][]*onnxrt.Value
	bind [2]*onnxrt.Binding // bind[c] reads set c and writes set 1-c
	cur  int
	host map[int]*batchValues
	// captured, where the provider replays a captured step
	// (Config.GraphCapture), is the batch and the results on the device,
	// bound once at fixed addresses; each step copies the host values in
	// and out.
	captured *batchValues
	// stale says that Trainer.values are older than the device's weights.
	stale bool
	// err is a failed copy from a method that cannot return it (Snapshot,
	// Restore, Units, Weights); the next Epoch, Features or Head returns
	// it.
	err error
}

// startDevice sets up the device state of t, whose session t.train runs
// the graph with the update (inputs t.in, outputs: loss, probabilities,
// next weights, next velocities), from the weights in t.values.
func (t *Trainer) startDevice() (err error) {
	d := &deviceSteps{host: map[int]*batchValues{}}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if d.mem, err = t.train.DeviceMemory(); err != nil {
		return err
	}
	if d.cp, err = t.train.NewCopier(); err != nil {
		return err
	}
	for set := range 2 {
		for _, p := range t.params {
			w, err := d.mem.NewValue(p.shape...)
			if err != nil {
				return fmt.Errorf("weights %s: %w", p.name, err)
			}
			d.w[set] = append(d.w[set], w)
			v, err := d.mem.NewValue(p.shape...)
			if err != nil {
				return fmt.Errorf("velocity of %s: %w", p.name, err)
			}
			d.v[set] = append(d.v[set], v)
		}
	}
	for i, p := range t.params {
		if err := d.cp.FromHost(d.w[0][i], t.values[i]); err != nil {
			return fmt.Errorf("weights %s: %w", p.name, err)
		}
		if err := d.cp.FromHost(d.v[0][i], make([]float32, len(t.values[i]))); err != nil {
			return fmt.Errorf("velocity of %s: %w", p.name, err)
		}
	}
	// The parameters' inputs follow the data inputs; then come the
	// velocities. Outputs: loss, probabilities, next weights, next
	// velocities.
	np := len(t.params)
	data := len(t.in) - 2*np
	if t.capturedSteps() {
		if d.captured, err = t.newBatch(d.mem, t.rows); err != nil {
			return err
		}
	}
	for c := range 2 {
		b, err := t.train.NewBinding()
		if err != nil {
			return err
		}
		d.bind[c] = b
		if d.captured != nil {
			// Each direction of the weights' swap is a captured graph of
			// its own: their addresses differ.
			if err := errors.Join(b.SetGraphID(c+1), t.bindBatch(b, d.captured)); err != nil {
				return err
			}
		}
		for i := range t.params {
			err := errors.Join(
				b.BindInput(t.in[data+i], d.w[c][i]),
				b.BindInput(t.in[data+np+i], d.v[c][i]),
				b.BindOutput(t.out[2+i], d.w[1-c][i]),
				b.BindOutput(t.out[2+np+i], d.v[1-c][i]))
			if err != nil {
				return err
			}
		}
	}
	t.dev = d
	return nil
}

// hostBatch returns the host values for a batch of n photos.
func (t *Trainer) hostBatch(n int) (*batchValues, error) {
	d := t.dev
	if h, ok := d.host[n]; ok {
		return h, nil
	}
	h, err := t.newBatch(nil, n)
	if err != nil {
		return nil, err
	}
	d.host[n] = h
	return h, nil
}

// newBatch allocates the values of a batch of n photos in mem, or in host
// memory when mem is nil.
func (t *Trainer) newBatch(mem *onnxrt.Memory, n int) (*batchValues, error) {
	last := t.heads[len(t.heads)-1]
	h := &batchValues{}
	rows := int64(n)
	var err error
	alloc := func(v **onnxrt.Value, shape ...int64) {
		if err != nil {
			return
		}
		if mem == nil {
			*v, err = onnxrt.NewHostValue(shape...)
		} else {
			*v, err = mem.NewValue(shape...)
		}
	}
	alloc(&h.x, rows, Channels, Side, Side)
	if t.cfg.Dropout > 0 {
		alloc(&h.mask, rows, int64(last.In))
	}
	alloc(&h.target, rows, int64(last.Out))
	alloc(&h.scale, rows, 1)
	alloc(&h.loss, 1)
	alloc(&h.probs, rows, int64(last.Out))
	if err != nil {
		h.close()
		where := "on the host"
		if mem != nil {
			where = "in " + mem.Name
		}
		return nil, fmt.Errorf("finetune: batch of %d %s: %w", n, where, err)
	}
	return h, nil
}

// bindBatch binds a step's data inputs and its loss and probabilities to
// the values in h.
func (t *Trainer) bindBatch(b *onnxrt.Binding, h *batchValues) error {
	k := 0
	bindIn := func(v *onnxrt.Value) error {
		err := b.BindInput(t.in[k], v)
		k++
		return err
	}
	errs := []error{bindIn(h.x)}
	if h.mask != nil {
		errs = append(errs, bindIn(h.mask))
	}
	errs = append(errs, bindIn(h.target), bindIn(h.scale), b.BindOutput(t.out[0], h.loss), b.BindOutput(t.out[1], h.probs))
	return errors.Join(errs...)
}

// copyBatch copies the step's inputs from src to dst (in) or its results
// (out), between the host values and the device's.
func (d *deviceSteps) copyBatch(dst, src *batchValues, in bool) error {
	pairs := [][2]*onnxrt.Value{{dst.loss, src.loss}, {dst.probs, src.probs}}
	if in {
		pairs = [][2]*onnxrt.Value{{dst.x, src.x}, {dst.target, src.target}, {dst.scale, src.scale}}
		if src.mask != nil {
			pairs = append(pairs, [2]*onnxrt.Value{dst.mask, src.mask})
		}
	}
	for _, p := range pairs {
		if err := d.cp.Copy(p[0], p[1]); err != nil {
			return err
		}
	}
	return nil
}

// deviceStep runs one step on the batch in h (its activations already
// loaded): the dropout mask and targets are made as Trainer.gradients
// makes them, and the step writes the next weights into the other set,
// which commit makes current. It returns Σ wᵢ·lossᵢ and the number of
// samples classified correctly.
func (t *Trainer) deviceStep(ctx context.Context, h *batchValues, y []int, w []float32) (float64, int, error) {
	d := t.dev
	n := len(y)
	classes := t.heads[len(t.heads)-1].Out
	var mask []float32
	if h.mask != nil {
		mask = h.mask.Data()
	}
	t.stepInputs(mask, h.target.Data(), h.scale.Data(), y, w)
	b := d.bind[d.cur]
	if d.captured != nil {
		if err := d.copyBatch(d.captured, h, true); err != nil {
			return 0, 0, fmt.Errorf("finetune: batch to %s: %w", t.train.Provider(), err)
		}
	} else if err := t.bindBatch(b, h); err != nil {
		return 0, 0, fmt.Errorf("finetune: %w", err)
	}
	if err := b.Run(ctx); err != nil {
		if ctx.Err() != nil {
			return 0, 0, ctx.Err()
		}
		return 0, 0, fmt.Errorf("finetune: step on %s: %w", t.train.Provider(), err)
	}
	if err := b.SynchronizeOutputs(); err != nil {
		return 0, 0, fmt.Errorf("finetune: step on %s: %w", t.train.Provider(), err)
	}
	if d.captured != nil {
		if err := d.copyBatch(h, d.captured, false); err != nil {
			return 0, 0, fmt.Errorf("finetune: results from %s: %w", t.train.Provider(), err)
		}
	}
	return float64(h.loss.Data()[0]) * float64(n), grad.Correct(h.probs.Data(), y, classes), nil
}

// commit makes the weights the last step wrote current.
func (d *deviceSteps) commit() {
	d.cur = 1 - d.cur
	d.stale = true
}

// pull brings the device's current weights into t.values.
func (t *Trainer) pull() error {
	d := t.dev
	if d == nil || !d.stale {
		return nil
	}
	for i, p := range t.params {
		if err := d.cp.ToHost(t.values[i], d.w[d.cur][i]); err != nil {
			return fmt.Errorf("finetune: read weights %s from %s: %w", p.name, t.train.Provider(), err)
		}
	}
	d.stale = false
	return nil
}

// push sends t.values to the device's current weights.
func (t *Trainer) push() error {
	d := t.dev
	for i, p := range t.params {
		if err := d.cp.FromHost(d.w[d.cur][i], t.values[i]); err != nil {
			return fmt.Errorf("finetune: write weights %s to %s: %w", p.name, t.train.Provider(), err)
		}
	}
	d.stale = false
	return nil
}

// close frees the device state; the session is closed after it.
func (d *deviceSteps) close() {
	if d == nil {
		return
	}
	for _, b := range d.bind {
		b.Close()
	}
	for _, h := range d.host {
		h.close()
	}
	if d.captured != nil {
		d.captured.close()
	}
	for set := range 2 {
		for _, v := range d.w[set] {
			v.Close()
		}
		for _, v := range d.v[set] {
			v.Close()
		}
	}
	_ = d.cp.Close()
	d.mem.Close()
}

// StepTransfer reports the bytes one step of a full batch moves between Go
// and the runtime: to it (the batch, and on the host path every weight)
// and from it (loss and probabilities, and on the host path every
// gradient).
func (t *Trainer) StepTransfer() (toRuntime, fromRuntime int64) {
	bs := int64(t.cfg.BatchSize)
	last := t.heads[len(t.heads)-1]
	toRuntime = bs * (Dim + int64(last.Out) + 1)
	if t.cfg.Dropout > 0 {
		toRuntime += bs * int64(last.In)
	}
	fromRuntime = 1 + bs*int64(last.Out)
	if t.dev == nil {
		for _, v := range t.values {
			toRuntime += int64(len(v))
			fromRuntime += int64(len(v))
		}
	}
	return 4 * toRuntime, 4 * fromRuntime
}

// capturedSteps reports whether the provider is to capture a step and
// replay it: asked for (Config.GraphCapture), with the weights on the
// device and the fixed graph.
func (t *Trainer) capturedSteps() bool { return t.cfg.GraphCapture && t.rows > 0 }

// CapturedSteps reports whether the steps run as a captured graph's
// replays run (Config.GraphCapture): the batch copied into device values
// bound once, at fixed addresses. On CUDA and WebGPU the provider then
// replays the captured step; the CPU runs it as usual.
func (t *Trainer) CapturedSteps() bool { return t.dev != nil && t.dev.captured != nil }

// OnDevice reports whether the trainer's weights and optimiser state stay
// in the provider's memory between steps.
func (t *Trainer) OnDevice() bool { return t.dev != nil }

// DeviceUnavailable says why the weights are not on the device when
// Config.Steps (auto) meant them to be, and the update runs in Go instead;
// nil otherwise.
func (t *Trainer) DeviceUnavailable() error { return t.deviceErr }
