// Command engine-memory measures the desktop app's memory across changes
// of the image model's settings, with the app's own engine set
// (app.Engines) and the calls its screens make: on each change, the
// sidebar's engine check (prepareEngine) and a Classify job of a few
// photos on the new engine. It prints the resident set size after each
// change.
//
//	go run ./tools/engine-memory -photos testdata/photos/flowers/daisy -changes 10
//
// ONNXRUNTIME_LIB and CLASIFICA_TEST_BACKBONE (a backbone folder to
// import) must be set; Clasifica's folders go in a temporary folder.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

func main() {
	photos := flag.String("photos", "testdata/photos/flowers/daisy", "folder of photos to classify after each change")
	changes := flag.Int("changes", 10, "changes of settings")
	flag.Parse()
	home, err := os.MkdirTemp("", "clasifica-engine-memory-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(home)
	ctx := context.Background()
	a := app.New(app.Dirs{Cache: filepath.Join(home, "cache"), Config: filepath.Join(home, "config"), Data: filepath.Join(home, "data")})
	in, err := a.Backbones.Import(ctx, os.Getenv("CLASIFICA_TEST_BACKBONE"))
	if err != nil {
		log.Fatal(err)
	}
	paths, _, err := app.ListPhotos(ctx, []string{*photos})
	if err != nil {
		log.Fatal(err)
	}
	paths = paths[:min(8, len(paths))]
	// A model with a random head, for the classification's work only.
	cfg := head.DefaultConfig()
	h, err := head.New(features.Dim, 2, cfg)
	if err != nil {
		log.Fatal(err)
	}
	m := &model.Model{Meta: model.Meta{Labels: []string{"a", "b"}, Backbone: model.Backbone{ID: in.ID, Name: in.Name, SHA256: in.SHA256, Preprocess: in.Preprocess, ImageSize: 299}}, Head: h.Layers()}

	engines := app.NewEngines(a)
	defer engines.Close()
	fmt.Printf("start: RSS %s\n", rss())
	for i := range *changes + 1 {
		// The settings a person tries, each different: thread counts, the
		// provider (the CPU, then Automatic), WebGPU's power preference.
		opt := app.EngineOptions{Runtime: os.Getenv("ONNXRUNTIME_LIB"), Provider: onnxrt.CPU, Threads: 1 + i%4, LowPower: i >= 8}
		if (i/4)%2 == 1 {
			opt.Provider = onnxrt.Auto
		}
		// The sidebar's engine check.
		eng, release, err := engines.Open(ctx, opt)
		if err != nil {
			log.Fatal(err)
		}
		where := eng.Device()
		release()
		// A Classify job.
		eng, release, err = engines.OpenFor(ctx, m, opt)
		if err != nil {
			log.Fatal(err)
		}
		c, err := app.NewClassifier(m, eng)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := c.Classify(ctx, paths, nil); err != nil {
			log.Fatal(err)
		}
		release()
		runtime.GC()
		debug.FreeOSMemory()
		label := "opened"
		if i > 0 {
			label = fmt.Sprintf("change %d", i)
		}
		fmt.Printf("%-9s %s, %d threads, low power %v, runs on %s: RSS %s, %d engines open\n", label, opt.Provider, opt.Threads, opt.LowPower, where, rss(), engines.Len())
	}
}

// rss returns the process's resident set size as /proc reports it.
func rss() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
