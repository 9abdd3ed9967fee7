// Command startup shows where `clasifica classify --model M PHOTO` spends
// its time, phase by phase, in one process: the ONNX Runtime library, the
// model file, the backbone's ONNX graph, the session (graph optimisation
// included), the photo, the image model's run and the head. Each phase is
// timed as the command does it, in the same order.
//
//	go run ./tools/startup --model M.clasifica PHOTO
//
// The environment is the command's own (CLASIFICA_HOME, ONNXRUNTIME_LIB).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
)

func main() {
	modelPath := flag.String("model", "", "model file")
	provider := flag.String("provider", "auto", "execution provider")
	threads := flag.Int("threads", 0, "CPU threads (0: one per core)")
	flag.Parse()
	if *modelPath == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: startup --model M PHOTO")
		os.Exit(2)
	}
	if err := run(*modelPath, flag.Arg(0), *provider, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		os.Exit(1)
	}
}

func run(modelPath, photoPath, provider string, threads int) error {
	ctx := context.Background()
	// CPU time beside wall time: on a loaded machine the wall time says
	// more about the neighbours than about the phase.
	t, c := time.Now(), cpuTime()
	fmt.Printf("%-34s %8s %8s\n", "phase", "wall", "CPU")
	phase := func(name string) {
		fmt.Printf("%-34s %7.3fs %7.3fs\n", name, time.Since(t).Seconds(), cpuTime()-c)
		t, c = time.Now(), cpuTime()
	}
	dirs, err := app.DefaultDirs()
	if err != nil {
		return err
	}
	a := app.New(dirs)
	m, err := app.OpenModel(modelPath)
	if err != nil {
		return err
	}
	phase("model file")
	p, err := onnxrt.ParseProvider(provider)
	if err != nil {
		return err
	}
	opt := app.EngineOptions{Provider: p, Threads: threads}
	rt, err := app.LoadRuntime("", dirs)
	if err != nil {
		return err
	}
	phase("ONNX Runtime library")
	in, err := a.Backbones.Find(m.Backbone)
	if err != nil {
		return err
	}
	// The graph the model's features were computed with: float, or the
	// 8-bit one a model trained on 8-bit features classifies with.
	var onnx []byte
	kind := "float"
	if m.Backbone.Precision == string(app.PrecisionInt8) {
		kind = "8-bit"
		onnx, err = a.Backbones.Int8FeatureModel(ctx, in, onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: threads}})
	} else {
		onnx, err = a.Backbones.FeatureModel(ctx, in)
	}
	if err != nil {
		return err
	}
	phase(fmt.Sprintf("backbone graph (%s, %d MB)", kind, len(onnx)>>20))
	s, err := rt.NewSession(onnx, inception.InputName, inception.OutputName, onnxrt.Options{Provider: p, Threads: threads})
	if err != nil {
		return err
	}
	phase("session on " + s.Placement().String() + ", graph optimised afresh")
	s.Close()
	phase("session closed")
	img, err := photo.LoadFile(photoPath, inception.Size, photo.Limits{})
	if err != nil {
		return err
	}
	_ = img
	phase("photo decoded")
	eng, err := a.OpenEngineFor(ctx, m, opt)
	if err != nil {
		return err
	}
	phase("engine (graph + session from the saved optimised graph)")
	cl, err := app.NewClassifier(m, eng)
	if err != nil {
		return err
	}
	preds, err := cl.Classify(ctx, []string{photoPath}, nil)
	if err != nil {
		return err
	}
	phase("first classification")
	preds, err = cl.Classify(ctx, []string{photoPath}, nil)
	if err != nil {
		return err
	}
	phase("second classification")
	fmt.Println("label:", preds[0].Label())
	return eng.Close()
}

// cpuTime returns the user and system seconds the process has used.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	sec := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return sec(ru.Utime) + sec(ru.Stime)
}
