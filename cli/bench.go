package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/bytesize"
	"github.com/clasifica/clasifica/ml/finetune"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// benchJSON is bench's --format json output: app's result, plus, for one
// provider, its numbers at the top level as before, and the peak memory.
type benchJSON struct {
	*app.BenchResult
	// Device names what really ran the backbone (one provider only).
	Device string `json:"device,omitempty"`
	// RunsOn is where the backbone really ran (one provider only).
	RunsOn          *app.RunsOn        `json:"runs_on,omitempty"`
	InferencePerSec map[string]float64 `json:"inference_images_per_second,omitempty"`
	EndToEndPerSec  float64            `json:"end_to_end_images_per_second,omitempty"`
	PeakRSSBytes    int64              `json:"peak_rss_bytes"`
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := e.flags("bench", "[--data PHOTOS/] [--provider all] [options]")
	var ef engineFlags
	ef.add(fs, true)
	fs.Lookup("provider").Usage = "execution provider: auto, cpu, cuda, directml, coreml, webgpu, or all to measure each one this system may have"
	data := fs.String("data", "", "photo folder for the end-to-end measurement (its photos, not its labels)")
	seconds := fs.Float64("seconds", 5, "seconds to measure each inference batch size, and with --data the end-to-end rate")
	batches := fs.String("batches", "1,8,32", "inference batch sizes to measure, separated by commas")
	withHead := fs.Bool("head", true, "measure training the classifier head too")
	withFineTune := fs.Bool("fine-tune", true, "with --head, measure fine-tuning steps of the image model's top blocks too (about a minute on a CPU)")
	steps := fs.String("fine-tune-update", finetune.StepsAuto, "where fine-tuning steps update the weights: device (kept in the provider's memory), host (copied through the program each step), or auto")
	format := fs.String("format", "table", "output format: table or json")
	checkPrecision := fs.Bool("check-precision", false, "first check the 8-bit image model on this computer again (accuracy on the built-in sample photos, speed of both precisions) and print what it found")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	switch *steps {
	case finetune.StepsAuto, finetune.StepsDevice, finetune.StepsHost:
	default:
		fmt.Fprintf(e.stderr, "clasifica bench: --fine-tune-update %q: want auto, device or host\n", *steps)
		return errUsage
	}
	opt := app.BenchOptions{Data: *data, Seconds: *seconds, Head: *withHead, FineTune: *withFineTune, FineTuneSteps: *steps}
	for _, b := range strings.Split(*batches, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(b))
		if err != nil || n < 1 || n > 1024 {
			fmt.Fprintf(e.stderr, "clasifica bench: --batches %q: want sizes from 1 to 1024 separated by commas\n", *batches)
			return errUsage
		}
		opt.Batches = append(opt.Batches, n)
	}
	all := strings.EqualFold(strings.TrimSpace(ef.provider), "all")
	if all {
		ef.provider = "auto"
		opt.Providers = onnxrt.AutoOrder(runtime.GOOS)
	}
	eo, err := ef.options()
	if err != nil {
		return err
	}
	if err := e.ensureBackbone(ctx, eo.Backbone); err != nil {
		return err
	}
	opt.Engine = eo
	if *checkPrecision {
		fmt.Fprintln(e.stderr, "Checking the 8-bit image model (a minute or two)…")
		bar := newProgressBar(e.stderr)
		c, err := e.app.CheckPrecision(ctx, eo, app.PrecisionCheckRequest{Refresh: true, Progress: func(p app.PrecisionProgress) {
			bar.update("checking 8 bits", p.Done, p.Total, p.Rate(), "photos/s", p.Remaining(), p.Done == p.Total)
		}})
		if err != nil {
			return err
		}
		writePrecisionCheck(e.stderr, c)
	}
	res, err := e.app.Bench(ctx, opt, func(p app.BenchProgress) {
		if r := p.Row; r != nil {
			if r.Error != "" {
				fmt.Fprintf(e.stderr, "%s: cannot run: %s\n", r.Provider, r.Error)
			} else {
				fmt.Fprintf(e.stderr, "%s: runs on %s\n", r.Provider, r.RunsOn.Name)
			}
			return
		}
		if p.Batch > 0 {
			fmt.Fprintf(e.stderr, "[%d/%d] %s, batch %d…\n", p.Done+1, p.Total, p.Provider, p.Batch)
		}
	})
	if err != nil {
		return err
	}
	out := benchJSON{BenchResult: res, PeakRSSBytes: peakRSS()}
	if !all && len(res.Rows) == 1 {
		r := res.Rows[0]
		if r.Error != "" {
			return fmt.Errorf("%s: %s", r.Provider, r.Error)
		}
		out.RunsOn, out.Device = r.RunsOn, r.RunsOn.Name
		out.InferencePerSec, out.EndToEndPerSec = r.ImagesPerSec, r.EndToEndPerSec
		for _, s := range r.RunsOn.Skipped {
			fmt.Fprintf(e.stderr, "(%s unavailable: %s)\n", s.Name, s.Reason)
		}
	}
	if *format == "json" {
		return writeJSON(e.stdout, out)
	}
	writeBenchTable(e.stdout, res)
	fmt.Fprintf(e.stdout, "Precision: %s (%s)\n", res.Precision, res.PrecisionReason)
	for _, d := range res.Decode {
		fmt.Fprintf(e.stdout, "Decoding and shrinking photos (%s): %.1f photos/s per core (%.1f ms a photo)", d.Decoder, d.PhotosPerCoreSec, d.MsPerPhoto)
		if d.Failed > 0 {
			fmt.Fprintf(e.stdout, ", %d photos failed", d.Failed)
		}
		fmt.Fprintln(e.stdout)
	}
	if res.EpochSecondsPer1k > 0 {
		fmt.Fprintf(e.stdout, "Head training: %.2f s per epoch per 1,000 images\n", res.EpochSecondsPer1k)
	}
	if res.FineTuneSecondsPer1k > 0 {
		where := "updated by the program, copied each step"
		if res.FineTuneOnDevice {
			where = "kept on the device, updated in the graph"
		}
		fmt.Fprintf(e.stdout, "Fine-tuning (mixed9, mixed10 and the head): %.1f s per epoch per 1,000 images (weights %s)\n", res.FineTuneSecondsPer1k, where)
		if res.FineTuneDeviceNote != "" {
			fmt.Fprintf(e.stdout, "  (not on the device: %s)\n", res.FineTuneDeviceNote)
		}
	}
	if out.PeakRSSBytes > 0 {
		fmt.Fprintf(e.stdout, "Peak memory: %s\n", bytesize.Format(out.PeakRSSBytes))
	}
	if all {
		if st, err := e.app.Providers(eo.Runtime, false); err == nil {
			writeCUDAAdvice(e.stdout, app.AdviseCUDA(st, app.NVIDIAGPUs()))
		}
	}
	return nil
}

// writeCUDAAdvice tells a user with an NVIDIA card that cannot use CUDA
// what it would give and how to get it; nothing when adv is nil.
func writeCUDAAdvice(w io.Writer, adv *app.CUDAAdvice) {
	if adv == nil {
		return
	}
	fmt.Fprintf(w, "\nThis computer has an %s, but CUDA cannot run here (%s).\n%s\n", adv.GPU, adv.Reason, adv.Gain)
	for i, s := range adv.Steps {
		fmt.Fprintf(w, "  %d. %s\n", i+1, s)
	}
}

// writeBenchTable prints one line per provider: what it asked for, what
// really ran, images/s at each batch size, or why it cannot run.
func writeBenchTable(w io.Writer, res *app.BenchResult) {
	fmt.Fprintf(w, "Backbone %s, %d CPUs; images per second\n", res.Backbone, res.CPUs)
	fmt.Fprintf(w, "%-9s %-28s", "provider", "runs on")
	for _, b := range res.Batches {
		fmt.Fprintf(w, " %8s", fmt.Sprintf("batch %d", b))
	}
	if res.EndToEndImages > 0 {
		fmt.Fprintf(w, " %12s", fmt.Sprintf("%d photos", res.EndToEndImages))
	}
	fmt.Fprintln(w)
	for _, r := range res.Rows {
		if r.Error != "" {
			fmt.Fprintf(w, "%-9s %-28s %s\n", r.Provider, "unavailable", r.Error)
			continue
		}
		fmt.Fprintf(w, "%-9s %-28s", r.Provider, r.RunsOn.Name)
		for _, b := range res.Batches {
			fmt.Fprintf(w, " %8.1f", r.ImagesPerSec[fmt.Sprint(b)])
		}
		if res.EndToEndImages > 0 {
			fmt.Fprintf(w, " %12.1f", r.EndToEndPerSec)
		}
		fmt.Fprintln(w)
		if r.EndToEndCPUMs > 0 {
			fmt.Fprintf(w, "%-9s   (CPU time: %s; %.1f ms a photo from the files)\n", "", cpuPerImage(res.Batches, r.CPUMsPerImage), r.EndToEndCPUMs)
		}
		if r.RunsOn.Partial != "" {
			fmt.Fprintf(w, "%-9s   (%s)\n", "", r.RunsOn.Partial)
		}
	}
}

// writePrecisionCheck prints an 8-bit check: each sample set's guard
// measures, both speeds and the verdict.
func writePrecisionCheck(w io.Writer, c app.PrecisionCheck) {
	fmt.Fprintf(w, "8-bit check on %s:\n", c.CPU)
	for _, s := range c.Guard.Sets {
		fmt.Fprintf(w, "  %-8s %3d photos: mean-centred cosine %.4f (needs %.2f), accuracy %.1f%% float, %.1f%% 8-bit\n",
			s.Set, s.Photos, s.Cosine, app.GuardMinCosine, 100*s.FloatAccuracy, 100*s.Int8Accuracy)
	}
	fmt.Fprintf(w, "  batch 8: %.1f images/s float, %.1f 8-bit\n  %s\n", c.FloatRate, c.Int8Rate, c.Verdict())
}

// cpuPerImage says the inference's CPU time per image at each batch size.
func cpuPerImage(batches []int, ms map[string]float64) string {
	var parts []string
	for _, b := range batches {
		if v, ok := ms[fmt.Sprint(b)]; ok {
			parts = append(parts, fmt.Sprintf("%.1f ms an image at batch %d", v, b))
		}
	}
	return strings.Join(parts, ", ")
}
