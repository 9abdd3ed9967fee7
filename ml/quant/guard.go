package quant

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// The guard's bar: the 8-bit model is used only when, on photos not used
// for calibration, its features point where the float model's do (mean
// cosine after centring at least MinCosine) and a classifier on them
// loses at most MaxAccuracyDrop of the float features' accuracy. A gain
// passes: on 75 photos a photo is 1.3 points, and near the classes'
// borders 8 bits tip photos either way.
const (
	MinCosine       = 0.99
	MaxAccuracyDrop = 0.01
)

// Photo is a labelled image for calibrating or checking: the network's
// input (Size×Size RGB values in 0…255) with its set ("pets") and kind
// ("cat").
type Photo struct {
	Set, Label string
	Pix        []float32
}

// SetReport is the guard's measure on one set of photos.
type SetReport struct {
	Set    string `json:"set"`
	Photos int    `json:"photos"`
	// Cosine is the mean cosine between the 8-bit and the float features
	// of each photo after subtracting the float features' mean over the
	// calibration photos: raw cosines are near 1 for any two photos.
	Cosine float64 `json:"cosine"`
	// FloatAccuracy and Int8Accuracy are the shares of the photos that a
	// nearest-class-mean classifier (means of the calibration and
	// reference photos' float features) gets right with each model's
	// features.
	FloatAccuracy float64 `json:"float_accuracy"`
	Int8Accuracy  float64 `json:"int8_accuracy"`
}

// Passed reports whether the set meets the guard's bar.
func (s SetReport) Passed() bool {
	return s.Cosine >= MinCosine && s.FloatAccuracy-s.Int8Accuracy <= MaxAccuracyDrop+1e-9
}

// GuardReport is the guard's verdict on an 8-bit model.
type GuardReport struct {
	Sets   []SetReport `json:"sets"`
	Passed bool        `json:"passed"`
	// Reason says, when the guard failed, which measure missed the bar.
	Reason string `json:"reason,omitempty"`
}

// String describes the report in a line: each set's cosine and
// accuracies.
func (g GuardReport) String() string {
	var parts []string
	for _, s := range g.Sets {
		parts = append(parts, fmt.Sprintf("%s: cosine %.4f, accuracy %.1f%% → %.1f%% (%d photos)",
			s.Set, s.Cosine, 100*s.FloatAccuracy, 100*s.Int8Accuracy, s.Photos))
	}
	return strings.Join(parts, "; ")
}

// Samples are the photos the guard measures with.
type Samples struct {
	// Calibration holds the photos the 8-bit model was calibrated on:
	// the mean of their float features is the centre cosines are
	// measured around.
	Calibration []Photo
	// CalibrationFeatures, when not nil, are the float features of the
	// calibration photos, as Build returns them: Guard then does not run
	// them again.
	CalibrationFeatures []float32
	// Reference holds photos that, with the calibration ones, give the
	// nearest-class-mean classifier its class means (from float
	// features): more photos per class make a steadier classifier, whose
	// accuracy then measures the features rather than its own luck.
	Reference []Photo
	// Guard holds the photos measured; none of them is a calibration or
	// reference photo.
	Guard []Photo
}

// Speed is how fast each model ran the guard photos: images per second at
// batch 8.
type Speed struct{ Float, Int8 float64 }

// Guard compares the 8-bit feature model int8 with the float one on the
// guard photos of s, and times both on them: they run the guard photos in
// alternate batches, so that a change of the machine's load touches both
// alike, and the speed leaves out each one's first batch (a session's
// first run sets up its buffers). Both models are InceptionV3 feature
// models (inception.InputName in, inception.OutputName out). step (may
// be nil) is called after each batch of each model: calibration (unless
// s has their features) and reference photos in float, then the guard
// photos in float and in 8 bits; the time spent in it is not timed.
func Guard(ctx context.Context, eng onnxrt.Engine, floatModel, int8Model []byte, s Samples, step Step) (GuardReport, Speed, error) {
	fs, err := eng.NewSession(floatModel, inception.InputName, inception.OutputName)
	if err != nil {
		return GuardReport{}, Speed{}, fmt.Errorf("quant: guard: float model: %w", err)
	}
	defer fs.Close()
	qs, err := eng.NewSession(int8Model, inception.InputName, inception.OutputName)
	if err != nil {
		return GuardReport{}, Speed{}, fmt.Errorf("quant: guard: 8-bit model: %w", err)
	}
	defer qs.Close()
	calF := s.CalibrationFeatures
	if calF == nil {
		if calF, err = features(ctx, fs, s.Calibration, step); err != nil {
			return GuardReport{}, Speed{}, err
		}
	}
	refF, err := features(ctx, fs, s.Reference, step)
	if err != nil {
		return GuardReport{}, Speed{}, err
	}
	var gF, gQ []float32
	var photos [2]int
	var took [2]time.Duration
	for b0 := 0; b0 < len(s.Guard); b0 += featureBatch {
		b1 := min(len(s.Guard), b0+featureBatch)
		for i, run := range []struct {
			s   *onnxrt.Session
			out *[]float32
		}{{fs, &gF}, {qs, &gQ}} {
			start := time.Now()
			f, err := features(ctx, run.s, s.Guard[b0:b1], nil)
			if err != nil {
				return GuardReport{}, Speed{}, err
			}
			if b0 > 0 {
				photos[i] += b1 - b0
				took[i] += time.Since(start)
			}
			*run.out = append(*run.out, f...)
			if err := step.call(b1 - b0); err != nil {
				return GuardReport{}, Speed{}, err
			}
		}
	}
	var sp Speed
	if took[0] > 0 && took[1] > 0 {
		sp = Speed{Float: float64(photos[0]) / took[0].Seconds(), Int8: float64(photos[1]) / took[1].Seconds()}
	}
	return Judge(s, calF, refF, gF, gQ), sp, nil
}

// Judge computes the guard's report from the features, each Features'
// output for those photos of s: calF of the calibration photos, refF
// (float) of the reference photos, and gF (float) and gQ (8-bit) of the
// guard photos.
func Judge(s Samples, calF, refF, gF, gQ []float32) GuardReport {
	cal, guard := s.Calibration, s.Guard
	known := append(append([]Photo(nil), cal...), s.Reference...)
	knownF := append(append([]float32(nil), calF...), refF...)
	dim := inception.Features
	centre := make([]float64, dim)
	for i := range cal {
		for j := range dim {
			centre[j] += float64(calF[i*dim+j]) / float64(len(cal))
		}
	}
	rep := GuardReport{Passed: true}
	var sets []string
	for _, p := range guard {
		if len(sets) == 0 || sets[len(sets)-1] != p.Set {
			sets = append(sets, p.Set)
		}
	}
	for _, set := range sets {
		means := map[string][]float64{}
		counts := map[string]int{}
		for i, p := range known {
			if p.Set != set {
				continue
			}
			m := means[p.Label]
			if m == nil {
				m = make([]float64, dim)
				means[p.Label] = m
			}
			for j := range dim {
				m[j] += float64(knownF[i*dim+j])
			}
			counts[p.Label]++
		}
		for l, m := range means {
			for j := range m {
				m[j] /= float64(counts[l])
			}
		}
		r := SetReport{Set: set}
		var okF, okQ int
		for i, p := range guard {
			if p.Set != set {
				continue
			}
			f, q := gF[i*dim:(i+1)*dim], gQ[i*dim:(i+1)*dim]
			r.Photos++
			r.Cosine += centredCosine(f, q, centre)
			if nearest(means, f) == p.Label {
				okF++
			}
			if nearest(means, q) == p.Label {
				okQ++
			}
		}
		r.Cosine /= float64(r.Photos)
		r.FloatAccuracy, r.Int8Accuracy = float64(okF)/float64(r.Photos), float64(okQ)/float64(r.Photos)
		if !r.Passed() && rep.Passed {
			rep.Passed = false
			if r.Cosine < MinCosine {
				rep.Reason = fmt.Sprintf("on the %s photos the 8-bit features differ from the float ones (mean-centred cosine %.4f, below %.2f)", set, r.Cosine, MinCosine)
			} else {
				rep.Reason = fmt.Sprintf("on the %s photos the 8-bit features lower the accuracy from %.1f%% to %.1f%% (more than %.0f point)", set, 100*r.FloatAccuracy, 100*r.Int8Accuracy, 100*MaxAccuracyDrop)
			}
		}
		rep.Sets = append(rep.Sets, r)
	}
	return rep
}

// nearest returns the label whose mean is closest to x.
func nearest(means map[string][]float64, x []float32) string {
	best, bestD := "", math.Inf(1)
	for l, m := range means {
		d := 0.0
		for j, v := range m {
			e := float64(x[j]) - v
			d += e * e
		}
		if d < bestD || (d == bestD && l < best) {
			best, bestD = l, d
		}
	}
	return best
}

func centredCosine(x, y []float32, centre []float64) float64 {
	var xy, xx, yy float64
	for j := range x {
		u, v := float64(x[j])-centre[j], float64(y[j])-centre[j]
		xy, xx, yy = xy+u*v, xx+u*u, yy+v*v
	}
	return xy / math.Sqrt(xx*yy+1e-30)
}

// featureBatch is the batch Features runs.
const featureBatch = 8

// Features runs the photos through a feature model's session, 8 at a
// time, and returns their features one after another.
func Features(ctx context.Context, s *onnxrt.Session, photos []Photo) ([]float32, error) {
	return features(ctx, s, photos, nil)
}

// features is Features calling step after each batch.
func features(ctx context.Context, s *onnxrt.Session, photos []Photo, step Step) ([]float32, error) {
	size := inception.Size
	var out []float32
	for b0 := 0; b0 < len(photos); b0 += featureBatch {
		b1 := min(len(photos), b0+featureBatch)
		in := make([]float32, 0, (b1-b0)*size*size*3)
		for _, p := range photos[b0:b1] {
			in = append(in, p.Pix...)
		}
		f, err := s.Run(ctx, in, int64(b1-b0), int64(size), int64(size), 3)
		if err != nil {
			return nil, fmt.Errorf("quant: features: %w", err)
		}
		out = append(out, f...)
		if err := step.call(b1 - b0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// BuildVersion names what Build makes; it changes whenever Build would
// make another model from the same float one (another calibration, other
// layers in float), so that kept 8-bit models and their checks are made
// again. Version 2 pools InceptionV3's pool branches after their 1×1
// convolutions (PoolsAfterConvs).
const BuildVersion = "2"

// BuildPercentile is the share of each activation's values the ranges
// Build calibrates hold: all but one in 100,000, cut evenly at both ends.
// tools/int8-check compared it on the built-in samples with the extremes,
// the mean of per-photo extremes and 99.9–99.99% (which cut too much:
// cosines 0.93–0.99), with the stem, mixed0 or mixed10 kept float and with
// concatenations sharing a scale; it gave the highest cosine on the
// worse of the two sample sets with every kernel in 8 bits.
const BuildPercentile = 0.99999

// Build quantises the float InceptionV3 feature model to 8 bits,
// calibrating on cal: the calibration this package settled on
// (BuildPercentile), every convolution in 8 bits (the stem's kernels in
// uint8 where this CPU's products saturate: see BuildKind), the pool
// branches' average pools after their 1×1 convolutions
// (PoolsAfterConvs). It runs the float model twice over cal, one photo at
// a time, calling step (may be nil) after each, and returns with the
// 8-bit model the float features of cal from the second pass
// (Samples.CalibrationFeatures: the guard then need not compute them
// again). That pass runs the float model with the pools moved, whose
// features are the float model's up to float rounding.
func Build(ctx context.Context, eng onnxrt.Engine, floatModel *onnx.ModelProto, cal []Photo, step Step) (*onnx.ModelProto, []float32, error) {
	var images []float32
	for _, p := range cal {
		images = append(images, p.Pix...)
	}
	m := PoolsAfterConvs(floatModel)
	r, calF, err := calibratePercentile(ctx, eng, m, inception.InputName, inception.Size, images, BuildPercentile, step, inception.Features)
	if err != nil {
		return nil, nil, err
	}
	q, err := QDQWith(m, r, buildOptions(m, SaturatingProducts()))
	return q, calF, err
}
