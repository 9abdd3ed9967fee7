// Command int8-check quantises the backbone's feature model to 8 bits
// (package quant: QDQ, int8 kernels per channel, uint8 activations
// calibrated on sample photos) and compares it with the float model in
// one run: images per second at batch 1, 8 and 32, the mean-centred
// cosine of their features on photos not used for calibration, and the
// accuracy of a nearest-class-mean classifier on held-out photos with
// each model's features.
//
//	go run ./tools/int8-check [--backbone DIR] [--threads N] [--seconds S] [--save FILE]
//
// Calibration uses the pet sample photos; the guard uses the flowers.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/quant"
	"google.golang.org/protobuf/proto"
)

func main() {
	bb := flag.String("backbone", os.Getenv("CLASIFICA_TEST_BACKBONE"), "backbone folder or .h5 file")
	threads := flag.Int("threads", 0, "CPU threads (0: one per core)")
	seconds := flag.Float64("seconds", 3, "seconds to measure each batch size of each model")
	calib := flag.Int("calibration", 64, "pet photos to calibrate on")
	save := flag.String("save", "", "write the 8-bit model to this file")
	cbatch := flag.Int("calibration-batch", 1, "calibration batch size")
	extremes := flag.Bool("extremes", false, "calibrate to the extremes over all photos rather than the mean of each batch's")
	flag.Parse()
	mode := quant.MeanOfBatches
	if *extremes {
		mode = quant.Extremes
	}
	if err := run(*bb, *threads, *seconds, *calib, *cbatch, mode, *save); err != nil {
		fmt.Fprintln(os.Stderr, "int8-check:", err)
		os.Exit(1)
	}
}

const size = inception.Size

func load(paths []string) ([]float32, error) {
	per := size * size * 3
	out := make([]float32, len(paths)*per)
	for i, p := range paths {
		img, err := photo.LoadFile(p, size, photo.Limits{})
		if err != nil {
			return nil, err
		}
		for j, v := range img.Pix {
			out[i*per+j] = float32(v)
		}
	}
	return out, nil
}

func run(bbPath string, threads int, seconds float64, ncal, cbatch int, mode quant.Mode, save string) error {
	ctx := context.Background()
	rt, err := onnxrt.Load(os.Getenv("ONNXRUNTIME_LIB"))
	if err != nil {
		return err
	}
	b, err := backbone.Open(bbPath)
	if err != nil {
		return err
	}
	floatBytes, err := b.FeatureModel()
	if err != nil {
		return err
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(floatBytes, &m); err != nil {
		return err
	}
	root, _ := filepath.Abs(".")
	pets, _ := filepath.Glob(filepath.Join(root, "testdata/photos/pets/*/*.jpg"))
	if len(pets) == 0 {
		pets, _ = filepath.Glob(filepath.Join(root, "testdata/photos/pets/*.jpg"))
	}
	flowers, _ := filepath.Glob(filepath.Join(root, "testdata/photos/flowers/*/*.jpg"))
	sort.Strings(pets)
	sort.Strings(flowers)
	if len(pets) < ncal || len(flowers) < 20 {
		return fmt.Errorf("sample photos: %d pets, %d flowers (run from the repository root)", len(pets), len(flowers))
	}
	// Every k-th pet photo: all breeds, a fixed set.
	var cal []string
	for i := 0; i < ncal; i++ {
		cal = append(cal, pets[i*len(pets)/ncal])
	}
	eng := onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: threads}}
	start := time.Now()
	calImages, err := load(cal)
	if err != nil {
		return err
	}
	ranges, err := quant.Calibrate(ctx, eng, &m, inception.InputName, size, calImages, cbatch, mode)
	if err != nil {
		return err
	}
	qm, err := quant.QDQ(&m, ranges)
	if err != nil {
		return err
	}
	qBytes, err := proto.Marshal(qm)
	if err != nil {
		return err
	}
	fmt.Printf("calibrated %d activations on %d pet photos and quantised in %.1f s; model %d MB → %d MB\n",
		len(ranges), len(cal), time.Since(start).Seconds(), len(floatBytes)>>20, len(qBytes)>>20)
	if save != "" {
		if err := os.WriteFile(save, qBytes, 0o644); err != nil {
			return err
		}
	}
	fs, err := eng.NewSession(floatBytes, inception.InputName, inception.OutputName)
	if err != nil {
		return err
	}
	defer fs.Close()
	qs, err := eng.NewSession(qBytes, inception.InputName, inception.OutputName)
	if err != nil {
		return fmt.Errorf("8-bit session: %w", err)
	}
	defer qs.Close()

	// The guard: features of the flowers (never used for calibration).
	images, err := load(flowers)
	if err != nil {
		return err
	}
	per := size * size * 3
	feats := func(s *onnxrt.Session) ([]float32, error) {
		var out []float32
		n := len(flowers)
		for b0 := 0; b0 < n; b0 += 16 {
			b1 := min(n, b0+16)
			f, err := s.Run(ctx, images[b0*per:b1*per], int64(b1-b0), size, size, 3)
			if err != nil {
				return nil, err
			}
			out = append(out, f...)
		}
		return out, nil
	}
	ff, err := feats(fs)
	if err != nil {
		return err
	}
	qf, err := feats(qs)
	if err != nil {
		return err
	}
	labels := make([]string, len(flowers))
	for i, p := range flowers {
		labels[i] = filepath.Base(filepath.Dir(p))
	}
	cos, raw := centredCosine(ff, qf, inception.Features)
	fmt.Printf("features on %d flower photos: mean cosine %.4f raw, %.4f after subtracting the float features' mean\n", len(flowers), raw, cos)
	accF, accQ, nTest := centroidAccuracy(ff, qf, labels, inception.Features)
	fmt.Printf("nearest class mean (means from the float features of the even photos), on the %d odd photos: float %.1f%%, int8 %.1f%%\n", nTest, 100*accF, 100*accQ)

	fmt.Printf("\nimages/s   %8s %8s %8s\n", "batch 1", "batch 8", "batch 32")
	rates := map[string][]float64{}
	for _, bs := range []int{1, 8, 32} {
		in := make([]float32, bs*per)
		for i := range in {
			in[i] = images[i%len(images)]
		}
		for _, kv := range []struct {
			name string
			s    *onnxrt.Session
		}{{"float", fs}, {"int8", qs}} {
			ips, err := measure(ctx, kv.s, in, bs, seconds)
			if err != nil {
				return err
			}
			rates[kv.name] = append(rates[kv.name], ips)
		}
	}
	for _, name := range []string{"float", "int8"} {
		r := rates[name]
		fmt.Printf("%-10s %8.1f %8.1f %8.1f\n", name, r[0], r[1], r[2])
	}
	r := rates
	fmt.Printf("%-10s %7.2f× %7.2f× %7.2f×\n", "int8/float", r["int8"][0]/r["float"][0], r["int8"][1]/r["float"][1], r["int8"][2]/r["float"][2])
	return nil
}

func measure(ctx context.Context, s *onnxrt.Session, in []float32, bs int, seconds float64) (float64, error) {
	shape := []int64{int64(bs), size, size, 3}
	if _, err := s.Run(ctx, in, shape...); err != nil {
		return 0, err
	}
	n, start := 0, time.Now()
	for n == 0 || time.Since(start).Seconds() < seconds {
		if _, err := s.Run(ctx, in, shape...); err != nil {
			return 0, err
		}
		n += bs
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// centredCosine returns the mean cosine between rows of a and b after
// subtracting a's mean row from both, and the raw mean cosine.
func centredCosine(a, b []float32, dim int) (centred, raw float64) {
	n := len(a) / dim
	mean := make([]float64, dim)
	for i := range n {
		for j := range dim {
			mean[j] += float64(a[i*dim+j]) / float64(n)
		}
	}
	cos := func(x, y []float32, sub []float64) float64 {
		var xy, xx, yy float64
		for j := range x {
			u, v := float64(x[j]), float64(y[j])
			if sub != nil {
				u, v = u-sub[j], v-sub[j]
			}
			xy, xx, yy = xy+u*v, xx+u*u, yy+v*v
		}
		return xy / math.Sqrt(xx*yy+1e-30)
	}
	for i := range n {
		x, y := a[i*dim:(i+1)*dim], b[i*dim:(i+1)*dim]
		centred += cos(x, y, mean) / float64(n)
		raw += cos(x, y, nil) / float64(n)
	}
	return centred, raw
}

// centroidAccuracy classifies the odd rows by the nearest class mean of
// the even rows of the float features a, once with a's and once with b's
// features, and returns both accuracies.
func centroidAccuracy(a, b []float32, labels []string, dim int) (float64, float64, int) {
	means := map[string][]float64{}
	counts := map[string]int{}
	for i := 0; i < len(labels); i += 2 {
		m := means[labels[i]]
		if m == nil {
			m = make([]float64, dim)
			means[labels[i]] = m
		}
		for j := range dim {
			m[j] += float64(a[i*dim+j])
		}
		counts[labels[i]]++
	}
	for l, m := range means {
		for j := range m {
			m[j] /= float64(counts[l])
		}
	}
	classify := func(x []float32) string {
		best, bestD := "", math.Inf(1)
		for l, m := range means {
			d := 0.0
			for j := range m {
				e := float64(x[j]) - m[j]
				d += e * e
			}
			if d < bestD {
				best, bestD = l, d
			}
		}
		return best
	}
	var okA, okB, n int
	for i := 1; i < len(labels); i += 2 {
		n++
		if classify(a[i*dim:(i+1)*dim]) == labels[i] {
			okA++
		}
		if classify(b[i*dim:(i+1)*dim]) == labels[i] {
			okB++
		}
	}
	return float64(okA) / float64(n), float64(okB) / float64(n), n
}
