package finetune

import (
	"github.com/clasifica/clasifica/ml/grad"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// Which training graph a trainer's steps run (Config.Graph).
const (
	// GraphAuto is GraphFixed on every provider but the CPU, and
	// GraphDynamic on the CPU.
	GraphAuto = "auto"
	// GraphFixed is the graph for a GPU provider: its batch is
	// Config.BatchSize, fixed when the graph is built, so that every shape
	// in it is known then and no shape computation is left to a run (GPU
	// providers run those on the CPU, with a copy each way and a wait for
	// the device in the middle of the step), and it has only operators
	// the GPU providers run on the device (grad.Builder.GPU). A short last
	// batch is padded to the full batch with rows that weigh nothing in
	// the loss: every step runs the same graph on values of the same
	// shapes, which a captured step (CUDA graphs, WebGPU's graph
	// capture) needs to be replayed. It gives the
	// weights of GraphDynamic to float rounding (the sums over the batch
	// are ordered differently).
	GraphFixed = "fixed"
	// GraphDynamic leaves the batch to each run and uses LogSoftmax: the
	// CPU's graph, whose steps are as short as their batch.
	GraphDynamic = "dynamic"
)

// fixedGraph reports whether the trainer with cfg on provider p runs the
// fixed-shape graph.
func fixedGraph(cfg Config, p onnxrt.Provider) bool {
	switch cfg.Graph {
	case GraphFixed:
		return true
	case GraphDynamic:
		return false
	}
	return p != onnxrt.CPU
}

// rowsFor returns the rows of a step's values for a batch of n samples:
// the fixed graph's batch, or n.
func (t *Trainer) rowsFor(n int) int {
	if t.rows > 0 {
		return t.rows
	}
	return n
}

// stepInputs fills a step's dropout mask (when the head has dropout),
// targets and sample scales for the labels y with weights w, in values of
// rows ≥ len(y) rows. The rows past len(y) pad a short batch: zero
// targets and zero scale, so that they add exactly nothing to the loss
// (the mean stays over the real rows) and their gradient is zero. The mask
// is drawn for the real rows only, so that the generator moves as it does
// for the dynamic graph and the later batches' masks are the same.
func (t *Trainer) stepInputs(mask, target, scale []float32, y []int, w []float32) {
	n := len(y)
	last := t.heads[len(t.heads)-1]
	classes := last.Out
	if t.cfg.Dropout > 0 {
		grad.DropoutMask(mask[:n*last.In], t.cfg.Dropout, t.rng)
		clear(mask[n*last.In:])
	}
	grad.Targets(target[:n*classes], scale[:n], y, w, classes, t.cfg.LabelSmoothing)
	clear(target[n*classes:])
	clear(scale[n:])
}

// fix makes s the fixed graph of batch rows, or the dynamic one.
func (s *graphSpec) fix(fixed bool, rows int) {
	s.rows, s.gpu = 0, fixed
	if fixed {
		s.rows = int64(rows)
	}
}

// FixedBatch returns the batch of the fixed-shape graph the steps run
// (GraphFixed), or 0 where the batch is left to each step (GraphDynamic).
func (t *Trainer) FixedBatch() int { return t.rows }
