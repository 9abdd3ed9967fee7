package finetune

import (
	"slices"

	"github.com/clasifica/clasifica/ml/onnx"
)

// Names of the values the optimiser's update adds to a training graph.
func velocityName(p string) string     { return p + "/velocity" }
func nextName(p string) string         { return p + "/next" }
func nextVelocityName(p string) string { return p + "/velocity/next" }

// appendSGD adds Keras's SGD with momentum to a training graph g in which
// grads[i] is the gradient of params[i] (whatever graph package grad
// emitted: only the names are used). For each parameter p it adds the
// input p/velocity and the outputs p/next and p/velocity/next:
//
//	v' = momentum·v − lr·g
//	w' = (w − w·decay) + v'      (decay = lr·WeightDecay, kernels only)
//	w' = w + v'                  (no decay)
//
// — the same float32 operations, in the same order, as Trainer.update, so
// that a step computed in the graph gives the same weights to the bit as
// one updated in Go. The gradients stop being graph outputs: they live and
// die inside the run. It returns the inputs and outputs it added, in
// parameter order (all velocities; then, for outputs, each parameter's
// next weights, then all next velocities).
func appendSGD(g *onnx.Graph, params []param, grads []string, cfg Config) (inputs, outputs []string) {
	lr := g.Float("sgd~lr", []float32{float32(cfg.LearningRate)})
	mom := g.Float("sgd~momentum", []float32{float32(cfg.Momentum)})
	dk := float32(cfg.LearningRate * cfg.WeightDecay)
	var decay string
	if dk != 0 {
		decay = g.Float("sgd~decay", []float32{dk})
	}
	gp := g.Proto()
	gp.Output = slices.DeleteFunc(gp.Output, func(o *onnx.ValueInfoProto) bool { return slices.Contains(grads, o.GetName()) })
	var vels, nexts, nextVels []string
	for i, p := range params {
		v := velocityName(p.name)
		g.Input(v, p.shape...)
		mv := g.Node("Mul", "sgd~"+p.name+"~momentum_v", []string{v, mom})
		lg := g.Node("Mul", "sgd~"+p.name+"~lr_g", []string{grads[i], lr})
		nv := g.Node("Sub", nextVelocityName(p.name), []string{mv, lg})
		kept := p.name
		if decay != "" && !p.beta && !p.bias {
			wd := g.Node("Mul", "sgd~"+p.name+"~w_decay", []string{p.name, decay})
			kept = g.Node("Sub", "sgd~"+p.name+"~w_kept", []string{p.name, wd})
		}
		nw := g.Node("Add", nextName(p.name), []string{kept, nv})
		vels = append(vels, v)
		nexts = append(nexts, nw)
		nextVels = append(nextVels, nv)
	}
	for i, p := range params {
		g.Output(nexts[i], p.shape...)
	}
	for i, p := range params {
		g.Output(nextVels[i], p.shape...)
	}
	return vels, append(nexts, nextVels...)
}
