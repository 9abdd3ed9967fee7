// Command int8-check quantises the backbone's feature model to 8 bits
// (package quant: QDQ, int8 kernels per channel, uint8 activations
// calibrated on sample photos) in several ways and compares each with the
// float model in one run: the guard's numbers (the mean-centred cosine of
// their features and the accuracy of a nearest-class-mean classifier, on
// photos not used for calibration) and, for the variants named with
// --speed, images per second at batch 1, 8 and 32.
//
//	go run ./tools/int8-check [--backbone DIR] [--threads N] [--seconds S]
//	    [--variants a,b,…] [--speed a,b,…] [--sensitivity VARIANT] [--save VARIANT=FILE]
//
// Calibration uses every fourth photo of each sample set (pets and
// flowers); the guard uses the odd ones. Class means come from the float
// features of the even photos; the odd ones are classified (pets as cat
// or dog, flowers by kind).
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/quant"
	"google.golang.org/protobuf/proto"
)

const size = inception.Size
const per = size * size * 3

type set struct {
	name   string
	paths  []string
	labels []string
	images []float32
	float  []float32 // float features of every photo
}

type variant struct {
	name   string
	calib  string // "mean", "extremes", "p0.9999", …
	opt    quant.Options
	desc   string
	floats map[string]bool
}

func main() {
	bb := flag.String("backbone", os.Getenv("CLASIFICA_TEST_BACKBONE"), "backbone folder or .h5 file")
	threads := flag.Int("threads", 0, "CPU threads (0: one per core)")
	seconds := flag.Float64("seconds", 3, "seconds to measure each batch size of each model")
	variants := flag.String("variants", "mean,extremes,p0.999,p0.9999,p0.99999", "variants to compare: a calibration (mean, extremes, pP) with +shared (concat shares its quantisation), +float=BLOCK[/BLOCK…] (blocks kept float: stem, mixed0…mixed10)")
	speed := flag.String("speed", "", "variants whose images/s to measure beside the float model's")
	sens := flag.String("sensitivity", "", "for this variant, also try each block kept float on its own")
	save := flag.String("save", "", "VARIANT=FILE: write that variant's 8-bit model")
	flag.Parse()
	if err := run(*bb, *threads, *seconds, *variants, *speed, *sens, *save); err != nil {
		fmt.Fprintln(os.Stderr, "int8-check:", err)
		os.Exit(1)
	}
}

func load(paths []string) ([]float32, error) {
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

func parseVariant(s string) (variant, error) {
	parts := strings.Split(s, "+")
	v := variant{name: s, calib: parts[0]}
	var floats map[string]bool
	for _, p := range parts[1:] {
		switch {
		case p == "shared":
			v.opt.SharedConcat = true
		case strings.HasPrefix(p, "float="):
			floats = map[string]bool{}
			for _, b := range strings.Split(strings.TrimPrefix(p, "float="), "/") {
				floats[b] = true
			}
		default:
			return v, fmt.Errorf("variant %s: unknown part %q", s, p)
		}
	}
	if floats != nil {
		v.opt.Float = func(string) bool { return false }
		v.desc = "float " + strings.Join(keys(floats), ",")
		v.floats = floats
	}
	return v, nil
}

func keys(m map[string]bool) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

func run(bbPath string, threads int, seconds float64, variantList, speedList, sens, save string) error {
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
	blocks := quant.Blocks(&m)
	root, _ := filepath.Abs(".")
	var sets []*set
	for _, name := range []string{"pets", "flowers"} {
		paths, _ := filepath.Glob(filepath.Join(root, "testdata/photos", name, "*", "*.jpg"))
		sort.Strings(paths)
		if len(paths) < 40 {
			return fmt.Errorf("%d %s photos (run from the repository root)", len(paths), name)
		}
		s := &set{name: name, paths: paths}
		for _, p := range paths {
			l := filepath.Base(filepath.Dir(p))
			if name == "pets" { // capitalised breeds are cats
				if unicode.IsUpper([]rune(l)[0]) {
					l = "cat"
				} else {
					l = "dog"
				}
			}
			s.labels = append(s.labels, l)
		}
		if s.images, err = load(paths); err != nil {
			return err
		}
		sets = append(sets, s)
	}
	var cal []float32
	ncal := 0
	for _, s := range sets {
		for i := 0; i < len(s.paths); i += 4 {
			cal = append(cal, s.images[i*per:(i+1)*per]...)
			ncal++
		}
	}
	eng := onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: threads}}
	fs, err := eng.NewSession(floatBytes, inception.InputName, inception.OutputName)
	if err != nil {
		return err
	}
	defer fs.Close()
	feats := func(s *onnxrt.Session, images []float32, idx []int) ([]float32, error) {
		var out []float32
		for b0 := 0; b0 < len(idx); b0 += 8 {
			b1 := min(len(idx), b0+8)
			var in []float32
			for _, i := range idx[b0:b1] {
				in = append(in, images[i*per:(i+1)*per]...)
			}
			f, err := s.Run(ctx, in, int64(b1-b0), size, size, 3)
			if err != nil {
				return nil, err
			}
			out = append(out, f...)
		}
		return out, nil
	}
	dim := inception.Features
	// Centring: the float features' mean over the calibration photos.
	mean := make([]float64, dim)
	for _, s := range sets {
		all := make([]int, len(s.paths))
		for i := range all {
			all[i] = i
		}
		if s.float, err = feats(fs, s.images, all); err != nil {
			return err
		}
		for i := 0; i < len(s.paths); i += 4 {
			for j := range dim {
				mean[j] += float64(s.float[i*dim+j]) / float64(ncal)
			}
		}
	}
	fmt.Printf("CPU: %s; calibration: %d photos (every 4th pet and flower); guard: the odd photos\n", cpuName(), ncal)
	fmt.Printf("%-40s %6s  %-24s %-24s %5s\n", "variant", "MB", "pets cos / acc f→q", "flowers cos / acc f→q", "pass")

	rangeCache := map[string]quant.Ranges{}
	ranges := func(calib string) (quant.Ranges, error) {
		if r, ok := rangeCache[calib]; ok {
			return r, nil
		}
		var r quant.Ranges
		var err error
		switch {
		case calib == "mean":
			r, err = quant.Calibrate(ctx, eng, &m, inception.InputName, size, cal, 1, quant.MeanOfBatches)
		case calib == "extremes":
			r, err = quant.Calibrate(ctx, eng, &m, inception.InputName, size, cal, 8, quant.Extremes)
		case strings.HasPrefix(calib, "p"):
			p, perr := strconv.ParseFloat(calib[1:], 64)
			if perr != nil {
				return nil, fmt.Errorf("calibration %q: %w", calib, perr)
			}
			r, err = quant.CalibratePercentile(ctx, eng, &m, inception.InputName, size, cal, p)
		default:
			return nil, fmt.Errorf("unknown calibration %q", calib)
		}
		rangeCache[calib] = r
		return r, err
	}
	models := map[string][]byte{}
	evaluate := func(v variant) error {
		start := time.Now()
		r, err := ranges(v.calib)
		if err != nil {
			return err
		}
		if v.floats != nil {
			fl := v.floats
			v.opt.Float = func(n string) bool { return fl[blocks[n]] }
		}
		q, err := quant.QDQWith(&m, r, v.opt)
		if err != nil {
			return err
		}
		qb, err := proto.Marshal(q)
		if err != nil {
			return err
		}
		models[v.name] = qb
		qs, err := eng.NewSession(qb, inception.InputName, inception.OutputName)
		if err != nil {
			return fmt.Errorf("%s: 8-bit session: %w", v.name, err)
		}
		defer qs.Close()
		line := fmt.Sprintf("%-40s %6.1f ", v.name, float64(len(qb))/(1<<20))
		pass := true
		for _, s := range sets {
			var odd []int
			for i := 1; i < len(s.paths); i += 2 {
				odd = append(odd, i)
			}
			qf, err := feats(qs, s.images, odd)
			if err != nil {
				return err
			}
			var ff []float32
			for _, i := range odd {
				ff = append(ff, s.float[i*dim:(i+1)*dim]...)
			}
			cos := centredCosine(ff, qf, mean, dim)
			accF, accQ := centroidAccuracy(s, qf, odd, dim)
			ok := cos >= 0.99 && math.Abs(accF-accQ) <= 0.01+1e-9
			pass = pass && ok
			line += fmt.Sprintf(" %.4f / %4.1f→%4.1f%%       ", cos, 100*accF, 100*accQ)
		}
		fmt.Printf("%s %5v  (%.0f s)\n", line, pass, time.Since(start).Seconds())
		return nil
	}
	for _, name := range strings.Split(variantList, ",") {
		v, err := parseVariant(name)
		if err != nil {
			return err
		}
		if err := evaluate(v); err != nil {
			return err
		}
	}
	if sens != "" {
		for _, blk := range append([]string{"stem"}, mixedNames()...) {
			v, err := parseVariant(sens + "+float=" + blk)
			if err != nil {
				return err
			}
			if err := evaluate(v); err != nil {
				return err
			}
		}
	}
	if name, file, ok := strings.Cut(save, "="); ok {
		if err := os.WriteFile(file, models[name], 0o644); err != nil {
			return err
		}
	}
	if speedList == "" {
		return nil
	}
	names := append([]string{"float"}, strings.Split(speedList, ",")...)
	fmt.Printf("\nimages/s (%.0f s each)%-20s %8s %8s %8s\n", seconds, "", "batch 1", "batch 8", "batch 32")
	sessions := map[string]*onnxrt.Session{"float": fs}
	for _, n := range names[1:] {
		qb, ok := models[n]
		if !ok {
			return fmt.Errorf("--speed %s: not among the variants", n)
		}
		s, err := eng.NewSession(qb, inception.InputName, inception.OutputName)
		if err != nil {
			return err
		}
		defer s.Close()
		sessions[n] = s
	}
	rates := map[string][]float64{}
	imgs := sets[1].images
	for _, bs := range []int{1, 8, 32} {
		in := make([]float32, bs*per)
		for i := range in {
			in[i] = imgs[i%len(imgs)]
		}
		// Interleaved, so that a change of load hits every model alike.
		for _, n := range names {
			ips, err := measure(ctx, sessions[n], in, bs, seconds)
			if err != nil {
				return err
			}
			rates[n] = append(rates[n], ips)
		}
	}
	for _, n := range names {
		r := rates[n]
		f := rates["float"]
		fmt.Printf("%-40s %8.1f %8.1f %8.1f   (%.2f× %.2f× %.2f×)\n", n, r[0], r[1], r[2], r[0]/f[0], r[1]/f[1], r[2]/f[2])
	}
	return nil
}

func mixedNames() []string {
	var out []string
	for i := range 11 {
		out = append(out, fmt.Sprintf("mixed%d", i))
	}
	return out
}

func cpuName() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			name := strings.TrimSpace(l[strings.Index(l, ":")+1:])
			flags := ""
			for _, f := range []string{"avx512_vnni", "amx_int8", "avx_vnni", "avx2"} {
				if strings.Contains(string(b), " "+f) {
					flags += " " + f
				}
			}
			return name + " (" + strings.TrimSpace(flags) + ")"
		}
	}
	return "unknown"
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
// subtracting mean from both.
func centredCosine(a, b []float32, mean []float64, dim int) float64 {
	n := len(a) / dim
	var sum float64
	for i := range n {
		var xy, xx, yy float64
		for j := range dim {
			u, v := float64(a[i*dim+j])-mean[j], float64(b[i*dim+j])-mean[j]
			xy, xx, yy = xy+u*v, xx+u*u, yy+v*v
		}
		sum += xy / math.Sqrt(xx*yy+1e-30)
	}
	return sum / float64(n)
}

// centroidAccuracy classifies the photos idx by the nearest class mean of
// the even photos' float features, once with their float features and
// once with q (their 8-bit features, in idx's order).
func centroidAccuracy(s *set, q []float32, idx []int, dim int) (float64, float64) {
	means := map[string][]float64{}
	counts := map[string]int{}
	for i := 0; i < len(s.paths); i += 2 {
		m := means[s.labels[i]]
		if m == nil {
			m = make([]float64, dim)
			means[s.labels[i]] = m
		}
		for j := range dim {
			m[j] += float64(s.float[i*dim+j])
		}
		counts[s.labels[i]]++
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
	var okF, okQ int
	for k, i := range idx {
		if classify(s.float[i*dim:(i+1)*dim]) == s.labels[i] {
			okF++
		}
		if classify(q[k*dim:(k+1)*dim]) == s.labels[i] {
			okQ++
		}
	}
	return float64(okF) / float64(len(idx)), float64(okQ) / float64(len(idx))
}
