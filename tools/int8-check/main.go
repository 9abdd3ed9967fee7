// Command int8-check quantises the backbone's feature model to 8 bits
// (package quant: QDQ, int8 kernels per channel, uint8 activations
// calibrated on sample photos) in several ways and compares each with the
// float model in one run: the guard's numbers (the mean-centred cosine of
// their features and the accuracy of a nearest-class-mean classifier, on
// photos not used for calibration) and, for the variants named with
// --speed, images per second at batch 1, 8 and 32.
//
//	go run ./tools/int8-check [--backbone DIR] [--threads N] [--seconds S]
//	    [--variants a,b,…] [--speed a,b,…] [--sensitivity VARIANT] [--unsigned-sensitivity VARIANT]
//	    [--save VARIANT=FILE[,VARIANT=FILE…]]
//
// The photos are the ones the app calibrates and checks on (package
// samples): every fourth pet and flower photo calibrates, the odd ones
// are the guard's, and the guard's numbers are quant.Guard's.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/quant"
	"github.com/clasifica/clasifica/ml/quant/samples"
	"google.golang.org/protobuf/proto"
)

const size = inception.Size
const per = size * size * 3

type variant struct {
	name   string
	calib  string // "mean", "extremes", "p0.9999", …
	opt    quant.Options
	desc   string
	floats map[string]bool
	// unsigned names the blocks whose kernels are uint8 ("all": every
	// block).
	unsigned map[string]bool
	// pools moves the average pools after their 1×1 convolutions
	// (quant.PoolsAfterConvs) before calibrating, as quant.Build does.
	pools bool
}

func main() {
	bb := flag.String("backbone", os.Getenv("CLASIFICA_TEST_BACKBONE"), "backbone folder or .h5 file")
	threads := flag.Int("threads", 0, "CPU threads (0: one per core)")
	seconds := flag.Float64("seconds", 3, "seconds to measure each batch size of each model")
	variants := flag.String("variants", "mean,extremes,p0.999,p0.9999,p0.99999", "variants to compare: a calibration (mean, extremes, pP) with +shared (concat shares its quantisation), +w7 (kernels in 7 bits: no saturation in AVX2's 8-bit products), +u8w[=BLOCK/…] (kernels uint8 with zero point 128, in every block or those named: uint8×uint8 products, which AVX2 does not saturate), +float=BLOCK[/BLOCK…] (blocks kept float: stem, mixed0…mixed10), +pools (average pools after their 1×1 convolutions, as quant.Build)")
	speed := flag.String("speed", "", "variants whose images/s to measure beside the float model's")
	sens := flag.String("sensitivity", "", "for this variant, also try each block kept float on its own")
	usens := flag.String("unsigned-sensitivity", "", "for this variant, also try each block's kernels in uint8 on its own (which blocks saturate AVX2's int8 products)")
	save := flag.String("save", "", "VARIANT=FILE[,VARIANT=FILE…]: write those variants' 8-bit models (for tools/cpumask/ops)")
	flag.Parse()
	if err := run(*bb, *threads, *seconds, *variants, *speed, *sens, *usens, *save); err != nil {
		fmt.Fprintln(os.Stderr, "int8-check:", err)
		os.Exit(1)
	}
}

func parseVariant(s string) (variant, error) {
	parts := strings.Split(s, "+")
	v := variant{name: s, calib: parts[0]}
	var floats map[string]bool
	for _, p := range parts[1:] {
		switch {
		case p == "shared":
			v.opt.SharedConcat = true
		case p == "w7":
			v.opt.SevenBitWeights = true
		case p == "pools":
			v.pools = true
		case p == "u8w":
			v.unsigned = map[string]bool{"all": true}
		case strings.HasPrefix(p, "u8w="):
			v.unsigned = map[string]bool{}
			for _, b := range strings.Split(strings.TrimPrefix(p, "u8w="), "/") {
				v.unsigned[b] = true
			}
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

func run(bbPath string, threads int, seconds float64, variantList, speedList, sens, usens, save string) error {
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
	// The photos the app calibrates and checks on (package samples).
	load := func(list func() ([]samples.Photo, error)) ([]quant.Photo, error) {
		ps, err := list()
		if err != nil {
			return nil, err
		}
		out := make([]quant.Photo, len(ps))
		for i, p := range ps {
			pix, err := p.Pixels(size)
			if err != nil {
				return nil, err
			}
			out[i] = quant.Photo{Set: p.Set, Label: p.Label, Pix: pix}
		}
		return out, nil
	}
	calPhotos, err := load(samples.Calibration)
	if err != nil {
		return err
	}
	guardPhotos, err := load(samples.Guard)
	if err != nil {
		return err
	}
	refPhotos, err := load(samples.Reference)
	if err != nil {
		return err
	}
	smp := quant.Samples{Calibration: calPhotos, Reference: refPhotos, Guard: guardPhotos}
	var cal []float32
	for _, p := range calPhotos {
		cal = append(cal, p.Pix...)
	}
	eng := onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: threads}}
	fs, err := eng.NewSession(floatBytes, inception.InputName, inception.OutputName)
	if err != nil {
		return err
	}
	defer fs.Close()
	calF, err := quant.Features(ctx, fs, calPhotos)
	if err != nil {
		return err
	}
	guardF, err := quant.Features(ctx, fs, guardPhotos)
	if err != nil {
		return err
	}
	refF, err := quant.Features(ctx, fs, refPhotos)
	if err != nil {
		return err
	}
	fmt.Printf("CPU: %s; %d calibration, %d reference, %d guard photos (package samples)\n", cpuName(), len(calPhotos), len(refPhotos), len(guardPhotos))
	fmt.Printf("%-34s %5s  %s\n", "variant", "MB", "per set: mean-centred cosine / nearest-class-mean accuracy float→8-bit; pass")

	pooled := quant.PoolsAfterConvs(&m)
	rangeCache := map[string]quant.Ranges{}
	ranges := func(calib string, pools bool) (quant.Ranges, error) {
		key := fmt.Sprint(calib, pools)
		if r, ok := rangeCache[key]; ok {
			return r, nil
		}
		m := &m
		if pools {
			m = pooled
		}
		var r quant.Ranges
		var err error
		switch {
		case calib == "mean":
			r, err = quant.Calibrate(ctx, eng, m, inception.InputName, size, cal, 1, quant.MeanOfBatches, nil)
		case calib == "extremes":
			r, err = quant.Calibrate(ctx, eng, m, inception.InputName, size, cal, 8, quant.Extremes, nil)
		case strings.HasPrefix(calib, "p"):
			p, perr := strconv.ParseFloat(calib[1:], 64)
			if perr != nil {
				return nil, fmt.Errorf("calibration %q: %w", calib, perr)
			}
			r, err = quant.CalibratePercentile(ctx, eng, m, inception.InputName, size, cal, p, nil)
		default:
			return nil, fmt.Errorf("unknown calibration %q", calib)
		}
		rangeCache[key] = r
		return r, err
	}
	models := map[string][]byte{}
	evaluate := func(v variant) error {
		start := time.Now()
		r, err := ranges(v.calib, v.pools)
		if err != nil {
			return err
		}
		vm := &m
		if v.pools {
			vm = pooled
		}
		if v.floats != nil {
			fl := v.floats
			v.opt.Float = func(n string) bool { return fl[blocks[n]] }
		}
		if v.unsigned != nil {
			u := v.unsigned
			v.opt.Unsigned = func(n string) bool { return u["all"] || u[blocks[n]] }
		}
		q, err := quant.QDQWith(vm, r, v.opt)
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
		qf, err := quant.Features(ctx, qs, guardPhotos)
		if err != nil {
			return err
		}
		g := quant.Judge(smp, calF, refF, guardF, qf)
		line := fmt.Sprintf("%-34s %5.1f ", v.name, float64(len(qb))/(1<<20))
		for _, s := range g.Sets {
			line += fmt.Sprintf("  %s %.4f / %4.1f→%4.1f%%", s.Set, s.Cosine, 100*s.FloatAccuracy, 100*s.Int8Accuracy)
		}
		fmt.Printf("%s %5v  (%.0f s)\n", line, g.Passed, time.Since(start).Seconds())
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
	for _, try := range []struct{ base, part string }{{sens, "+float="}, {usens, "+u8w="}} {
		if try.base == "" {
			continue
		}
		for _, blk := range append([]string{"stem"}, mixedNames()...) {
			v, err := parseVariant(try.base + try.part + blk)
			if err != nil {
				return err
			}
			if err := evaluate(v); err != nil {
				return err
			}
		}
	}
	for _, s := range strings.Split(save, ",") {
		// A variant's name may hold "=" (+u8w=stem); a file name here does not.
		i := strings.LastIndex(s, "=")
		if i < 0 {
			continue
		}
		name, file := s[:i], s[i+1:]
		if models[name] == nil {
			return fmt.Errorf("--save %s: not among the variants", name)
		}
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
	rates, cpuMs := map[string][]float64{}, map[string][]float64{}
	imgs := cal
	for _, bs := range []int{1, 8, 32} {
		in := make([]float32, bs*per)
		for i := range in {
			in[i] = imgs[i%len(imgs)]
		}
		// Interleaved, so that a change of load hits every model alike.
		for _, n := range names {
			ips, ms, err := measure(ctx, sessions[n], in, bs, seconds)
			if err != nil {
				return err
			}
			rates[n] = append(rates[n], ips)
			cpuMs[n] = append(cpuMs[n], ms)
		}
	}
	for _, n := range names {
		r := rates[n]
		f := rates["float"]
		fmt.Printf("%-40s %8.1f %8.1f %8.1f   (%.2f× %.2f× %.2f×)\n", n, r[0], r[1], r[2], r[0]/f[0], r[1]/f[1], r[2]/f[2])
	}
	// On a shared machine the CPU time is steadier than the rate: other
	// programs delay the runs, they hardly lengthen them.
	fmt.Printf("\nCPU ms per image (the process's, every thread)\n")
	for _, n := range names {
		c := cpuMs[n]
		f := cpuMs["float"]
		fmt.Printf("%-40s %8.1f %8.1f %8.1f   (%.2f× %.2f× %.2f× the float rate)\n", n, c[0], c[1], c[2], f[0]/c[0], f[1]/c[1], f[2]/c[2])
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

// cpuName names the CPU as ONNX Runtime sees it: from CPUID, so that a
// run under tools/cpumask says what was masked.
func cpuName() string { return onnxrt.CPUIdentity() }

// measure runs s on in for about seconds after one untimed run and
// returns images per second and the process's CPU milliseconds per image.
func measure(ctx context.Context, s *onnxrt.Session, in []float32, bs int, seconds float64) (float64, float64, error) {
	shape := []int64{int64(bs), size, size, 3}
	if _, err := s.Run(ctx, in, shape...); err != nil {
		return 0, 0, err
	}
	n, start, cpu0 := 0, time.Now(), cpuTime()
	for n == 0 || time.Since(start).Seconds() < seconds {
		if _, err := s.Run(ctx, in, shape...); err != nil {
			return 0, 0, err
		}
		n += bs
	}
	return float64(n) / time.Since(start).Seconds(), float64((cpuTime() - cpu0).Milliseconds()) / float64(n), nil
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
