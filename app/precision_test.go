package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/export"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/quant"
	"github.com/clasifica/clasifica/ml/train"
)

func TestParsePrecision(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Precision
		ok   bool
	}{{"", PrecisionAuto, true}, {"auto", PrecisionAuto, true}, {" Float ", PrecisionFloat, true}, {"INT8", PrecisionInt8, true}, {"int4", "", false}, {"fp16", "", false}} {
		got, err := ParsePrecision(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParsePrecision(%q) = %q, %v; want %q (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
}

// TestPrecisionChoice checks what each request gives on an app whose
// 8-bit check is remembered as given, without running the check: the
// decision table of choosePrecision.
func TestPrecisionChoice(t *testing.T) {
	a, eng, _, _ := setup(t)
	in := eng.Backbone
	exec := eng.Engine
	key := precisionKey(in, exec.Runtime)
	passed := PrecisionCheck{Guard: guardReport(true), FloatRate: 10, Int8Rate: 25}
	slow := PrecisionCheck{Guard: guardReport(true), FloatRate: 10, Int8Rate: 10.5}
	failed := PrecisionCheck{Guard: guardReport(false), FloatRate: 10, Int8Rate: 25}
	cpu := EngineOptions{Provider: onnxrt.CPU}
	int8Model := &model.Model{Meta: model.Meta{Backbone: model.Backbone{Precision: "int8"}}}
	// Close calls cost a float photo each: at 2.5 times the speed, 8 bits
	// pay below 60% of them; without a check (taken as twice), below 50%.
	closeModel := func(share float64) *model.Model {
		return &model.Model{Meta: model.Meta{Backbone: model.Backbone{Precision: "int8", RecheckGap: 0.5, CloseShare: share}}}
	}
	floatModel := &model.Model{}
	for _, c := range []struct {
		name  string
		check *PrecisionCheck
		opt   EngineOptions
		tuned bool
		want  Precision
		why   string
	}{
		{"auto, passed and faster", &passed, cpu, false, PrecisionInt8, "passed the accuracy check"},
		{"auto, passed but not faster", &slow, cpu, false, PrecisionFloat, "not faster"},
		{"auto, failed", &failed, cpu, false, PrecisionFloat, "failed the accuracy check"},
		{"auto, never checked", nil, cpu, false, PrecisionFloat, "not checked yet"},
		{"float asked", &passed, EngineOptions{Provider: onnxrt.CPU, Precision: PrecisionFloat}, false, PrecisionFloat, "asked for"},
		{"int8 asked, failed", &failed, EngineOptions{Provider: onnxrt.CPU, Precision: PrecisionInt8}, false, PrecisionFloat, "failed the accuracy check"},
		{"int8 asked, not faster", &slow, EngineOptions{Provider: onnxrt.CPU, Precision: PrecisionInt8}, false, PrecisionInt8, "asked for"},
		{"fine-tuning", &passed, EngineOptions{Provider: onnxrt.CPU, FineTuning: true}, false, PrecisionFloat, "fine-tuning"},
		{"fine-tuned model", &passed, cpu.ForModel(int8Model), true, PrecisionFloat, "fine-tuned"},
		{"int8 model, auto", &failed, cpu.ForModel(int8Model), false, PrecisionInt8, "trained on 8-bit features"},
		{"int8 model, few close calls", &passed, cpu.ForModel(closeModel(0.55)), false, PrecisionInt8, "close calls in float"},
		{"int8 model, most photos close calls", &passed, cpu.ForModel(closeModel(0.65)), false, PrecisionFloat, "65% of its photos were close calls"},
		{"int8 model, close calls, never checked", nil, cpu.ForModel(closeModel(0.55)), false, PrecisionFloat, "float throughout is faster"},
		{"int8 model, close calls, 8 bits asked", &passed, EngineOptions{Provider: onnxrt.CPU, Precision: PrecisionInt8}.ForModel(closeModel(0.9)), false, PrecisionInt8, "asked for"},
		{"float model, auto", &passed, cpu.ForModel(floatModel), false, PrecisionFloat, "trained on float features"},
		{"int8 model, float asked", &passed, EngineOptions{Provider: onnxrt.CPU, Precision: PrecisionFloat}.ForModel(int8Model), false, PrecisionFloat, "may differ"},
	} {
		a.precision.mu.Lock()
		a.precision.load()
		delete(a.precision.mem, key)
		if c.check != nil {
			a.precision.mem[key] = *c.check
		}
		a.precision.mu.Unlock()
		got, why, err := a.choosePrecision(context.Background(), in, c.opt, exec, c.tuned)
		if err != nil || got != c.want || !strings.Contains(why, c.why) {
			t.Errorf("%s: %s (%q), %v; want %s (%q)", c.name, got, why, err, c.want, c.why)
		}
	}
	a.precision.mu.Lock()
	delete(a.precision.mem, key)
	a.precision.mu.Unlock()
}

func guardReport(passed bool) (g quant.GuardReport) {
	g.Passed = passed
	if !passed {
		g.Reason = "on the flowers photos the 8-bit features differ from the float ones"
	}
	return g
}

// TestPrecisionCheckAuto runs the 8-bit check as the window does, in the
// background, on the real backbone and runtime: before it, auto opens
// float for want of a check; the check pauses while the user's work runs
// and reports its progress to the end; it is recorded in precision.json,
// and reused, without measuring again, by the next call and by the next
// start of Clasifica; engines opened since follow it, and the float one
// opened for want of it is closed.
func TestPrecisionCheckAuto(t *testing.T) {
	a, eng, _, _ := setup(t)
	ctx := context.Background()
	opt := EngineOptions{Runtime: mltest.RuntimeLibrary(t), Provider: onnxrt.CPU}
	key := precisionKey(eng.Backbone, eng.Runtime)
	a.precision.mu.Lock()
	a.precision.load()
	delete(a.precision.mem, key) // another test may have checked first
	a.precision.mu.Unlock()

	engines := NewEngines(a)
	defer engines.Close()
	before, release, err := engines.Open(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if before.Precision != PrecisionFloat || before.PrecisionReason != NotChecked {
		t.Fatalf("before the check, auto runs %s (%q)", before.Precision, before.PrecisionReason)
	}
	if need, err := a.PrecisionUnchecked(opt); !need || err != nil {
		t.Fatalf("PrecisionUnchecked before the check: %v, %v", need, err)
	}
	for _, o := range []EngineOptions{{Provider: onnxrt.CPU, Precision: PrecisionFloat}, {Provider: onnxrt.CPU, FineTuning: true}} {
		if need, _ := a.PrecisionUnchecked(o); need {
			t.Errorf("PrecisionUnchecked(%+v): a check would change nothing there", o)
		}
	}

	// The user's work holds the check for its first three looks.
	busyLooks := 0
	busy := func() bool { busyLooks++; return busyLooks <= 3 }
	var reports []PrecisionProgress
	start := time.Now()
	c, err := a.CheckPrecision(ctx, opt, PrecisionCheckRequest{Background: true, Busy: busy,
		Progress: func(p PrecisionProgress) { reports = append(reports, p) }})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	// What the check cost, in photos of float at its own measure of
	// float's speed (app's checkPaysFrom), for the notes.
	t.Logf("%s; %s; %d progress reports; took %v, as much as %.0f photos in float", c.Guard, c.Verdict(), len(reports), took.Round(time.Second), took.Seconds()*c.FloatRate)
	paused, resumed := false, false
	for i, p := range reports {
		if i > 0 && (p.Done < reports[i-1].Done || p.Total != reports[0].Total) {
			t.Fatalf("progress went from %+v to %+v", reports[i-1], p)
		}
		if p.Paused {
			paused = true
		} else if paused {
			resumed = true
		}
	}
	last := reports[len(reports)-1]
	// The calibration's two passes when the 8-bit model was built (the
	// second gives the calibration photos' float features), or the float
	// features of the calibration photos, then the reference photos in
	// float and the guard photos in both.
	if g := 75 + 74 + 2*149; last.Done != last.Total || (last.Total != g && last.Total != g+75) || last.Rate() <= 0 {
		t.Errorf("last progress %+v (rate %.2f)", last, last.Rate())
	}
	if !paused || !resumed {
		t.Errorf("the check did not pause for the user's work and go on (paused %v, resumed %v)", paused, resumed)
	}
	if c.FloatRate <= 0 || c.Int8Rate <= 0 || len(c.Guard.Sets) != 2 {
		t.Fatalf("check %+v", c)
	}

	// Recorded: the next call and the next start reuse it.
	again, err := a.CheckPrecision(ctx, opt, PrecisionCheckRequest{Progress: func(PrecisionProgress) { t.Error("the remembered check was measured again") }})
	if err != nil || !again.When.Equal(c.When) {
		t.Errorf("second check: %v at %v, first at %v", err, again.When, c.When)
	}
	restarted := New(a.Dirs)
	if r, ok, err := restarted.RememberedPrecisionCheck(opt); err != nil || !ok || !r.When.Equal(c.When) || r.Int8Rate != c.Int8Rate {
		t.Errorf("after a restart: %v, %v, %+v", ok, err, r)
	}
	if need, _ := restarted.PrecisionUnchecked(opt); need {
		t.Error("after a restart, auto still waits for a check")
	}

	after, release, err := engines.Open(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	release()
	want := PrecisionFloat
	if c.Use() {
		want = PrecisionInt8
	}
	if after == before || after.Precision != want || after.PrecisionReason != c.Verdict() {
		t.Errorf("after the check, auto runs %s (%q), want %s (%q)", after.Precision, after.PrecisionReason, want, c.Verdict())
	}
	if n := engines.Len(); n != 1 {
		t.Errorf("%d engines open: the float one opened for want of a check stays", n)
	}
}

// TestPrecisionCheckCancelled stops a check part way, while it
// calibrates the 8-bit model: it returns the cancellation and leaves
// neither a record nor an 8-bit model behind, so the next start checks
// again.
func TestPrecisionCheckCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	home := t.TempDir()
	a := New(Dirs{Cache: filepath.Join(home, "cache"), Config: filepath.Join(home, "config"), Data: filepath.Join(home, "data")})
	in, err := a.Backbones.Import(ctx, mltest.Backbone(t))
	if err != nil {
		t.Fatal(err)
	}
	opt := EngineOptions{Runtime: mltest.RuntimeLibrary(t), Provider: onnxrt.CPU}
	var last PrecisionProgress
	_, err = a.CheckPrecision(ctx, opt, PrecisionCheckRequest{Background: true, Progress: func(p PrecisionProgress) {
		if last = p; p.Done >= 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled check: %v", err)
	}
	if last.Done < 3 || last.Done >= last.Total {
		t.Errorf("cancelled at %+v", last)
	}
	for _, f := range []string{filepath.Join(a.Dirs.Cache, "precision.json"), filepath.Join(in.Dir, int8ModelFile)} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a cancelled check left %s (%v)", f, err)
		}
	}
	if need, err := New(a.Dirs).PrecisionUnchecked(opt); !need || err != nil {
		t.Errorf("after a cancelled check, PrecisionUnchecked: %v, %v", need, err)
	}
}

func TestPrecisionCheckPays(t *testing.T) {
	if PrecisionCheckPays(1) || PrecisionCheckPays(checkPaysFrom-1) || !PrecisionCheckPays(checkPaysFrom) {
		t.Errorf("break-even at %d photos", checkPaysFrom)
	}
	dir := t.TempDir()
	for _, f := range []string{"a/1.jpg", "a/2.jpg", "b/3.png", ".hidden/4.jpg", "b/.5.jpg"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n := CountPhotos(dir, 100); n != 3 {
		t.Errorf("CountPhotos: %d, want 3", n)
	}
	if n := CountPhotos(dir, 2); n != 2 {
		t.Errorf("CountPhotos up to 2: %d", n)
	}
}

// TestInt8EndToEnd runs the real 8-bit check on the offline backbone,
// trains on 8-bit features, classifies with them (close calls in float,
// the same answers on every path that shows them), and exports the model
// both ways: the default float export gives the app's labels on at least
// 98% of the sample photos, the 8-bit export on every photo the app
// answered in 8 bits.
func TestInt8EndToEnd(t *testing.T) {
	a, _, _, _ := setup(t)
	flowers := mltest.Photos(t, "flowers")
	ctx := context.Background()
	opt := EngineOptions{Runtime: mltest.RuntimeLibrary(t), Provider: onnxrt.CPU, Precision: PrecisionInt8}
	eng, err := a.OpenEngine(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	c, ok, err := a.RememberedPrecisionCheck(opt)
	if err != nil || !ok {
		t.Fatalf("the check was not remembered: %v, %v", ok, err)
	}
	t.Logf("8-bit check: %s; %s", c.Guard, c.Verdict())
	// The guard is the real measure on the real backbone: if it fails,
	// 8 bits must not run.
	if !c.Guard.Passed {
		if eng.Precision != PrecisionFloat || !strings.Contains(eng.PrecisionReason, "failed") {
			t.Fatalf("guard failed but the engine runs %s (%s)", eng.Precision, eng.PrecisionReason)
		}
		t.Fatalf("the 8-bit model failed its guard on the test backbone: %s", c.Guard.Reason)
	}
	if eng.Precision != PrecisionInt8 || eng.Ref().Precision != "int8" {
		t.Fatalf("engine runs %s (%s), model reference %q", eng.Precision, eng.PrecisionReason, eng.Ref().Precision)
	}
	if id := eng.Extractor(true).Backbone; !strings.HasSuffix(id, "-int8") || !strings.HasPrefix(id, eng.Backbone.SHA256) {
		t.Errorf("8-bit features are cached under %q, which float features could share", id)
	}

	o := train.DefaultOptions()
	o.Epochs = 10
	out := filepath.Join(t.TempDir(), "flowers8")
	res, err := a.Train(ctx, eng, TrainRequest{Data: flowers, DataOptions: dataset.Options{Validation: 0.2, Test: 0.2}, Options: o, Out: out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.ReadFile(out + model.Ext)
	if err != nil {
		t.Fatal(err)
	}
	if m.Backbone.Precision != "int8" || res.Model.Backbone.Precision != "int8" {
		t.Fatalf("model records precision %q", m.Backbone.Precision)
	}
	// Classifying follows the model, whatever Settings say (auto): in 8
	// bits, or in float where most of its photos are close calls, which 8
	// bits answer in float (the test backbone's flower heads are unsure
	// of most flowers).
	auto, err := a.OpenEngineFor(ctx, m, EngineOptions{Runtime: opt.Runtime, Provider: onnxrt.CPU})
	if err != nil {
		t.Fatal(err)
	}
	wantAuto := PrecisionInt8
	if floatPays(m.Backbone.CloseShare, c, true) {
		wantAuto = PrecisionFloat
	}
	t.Logf("close calls: gap %.3f, %.0f%% of the evaluated photos; auto classifies in %s (%s)", m.Backbone.RecheckGap, 100*m.Backbone.CloseShare, auto.Precision, auto.PrecisionReason)
	if auto.Precision != wantAuto {
		t.Errorf("auto classifies in %s (%s), want %s", auto.Precision, auto.PrecisionReason, wantAuto)
	}
	auto.Close()
	// 8 bits asked for, which also runs such models in 8 bits.
	ceng, err := a.OpenEngineFor(ctx, m, EngineOptions{Runtime: opt.Runtime, Provider: onnxrt.CPU, Precision: PrecisionInt8})
	if err != nil {
		t.Fatal(err)
	}
	defer ceng.Close()
	if ceng.Precision != PrecisionInt8 {
		t.Fatalf("classifying engine runs %s (%s)", ceng.Precision, ceng.PrecisionReason)
	}
	cl, err := NewClassifier(m, ceng)
	if err != nil {
		t.Fatal(err)
	}
	// The 150 flower photos, of the model's kinds, and 24 pets, strangers
	// to it: their probabilities are close to even, so a stranger's label
	// tips over with the slightest change of the features.
	var paths []string
	strangers := map[string]bool{}
	for _, set := range []struct {
		name  string
		every int
	}{{"flowers", 1}, {"pets", 6}} {
		p, _ := filepath.Glob(filepath.Join(mltest.Photos(t, set.name), "*", "*.jpg"))
		sort.Strings(p)
		for i := 0; i < len(p); i += set.every {
			paths = append(paths, p[i])
			strangers[p[i]] = set.name == "pets"
		}
	}
	preds, err := cl.Classify(ctx, paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	rechecked := 0
	for _, p := range preds {
		if p.Rechecked {
			rechecked++
		}
	}
	t.Logf("recheck gap %.3f: %d of %d photos were close calls, answered in float", m.Backbone.RecheckGap, rechecked, len(paths))
	if m.Backbone.RecheckGap <= 0 || rechecked == 0 || rechecked != cl.Rechecked() {
		t.Errorf("recheck gap %v, %d photos rechecked (classifier counts %d): the test backbone's flower heads have close calls", m.Backbone.RecheckGap, rechecked, cl.Rechecked())
	}
	// The float image model is opened only when a close call comes.
	lazy, err := a.OpenEngineFor(ctx, m, EngineOptions{Runtime: opt.Runtime, Provider: onnxrt.CPU, Precision: PrecisionInt8})
	if err != nil {
		t.Fatal(err)
	}
	defer lazy.Close()
	lc, err := NewClassifier(m, lazy)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{false, true} {
		i := slices.IndexFunc(preds, func(p Prediction) bool { return p.Rechecked == want })
		if i < 0 {
			t.Fatalf("no photo with rechecked %v", want)
		}
		got, err := lc.Classify(ctx, []string{paths[i]}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if opened := lazy.float.opened(); got[0].Label() != preds[i].Label() || got[0].Rechecked != want || opened != want {
			t.Errorf("%s alone: %s (rechecked %v, float model opened %v), with the others %s (rechecked %v)", paths[i], got[0].Label(), got[0].Rechecked, opened, preds[i].Label(), want)
		}
	}
	// Every path that shows labels gives a photo the same answer: the
	// window's batches, the evaluation of the recorded test photos (from
	// cached features) and the training's own report of them.
	byPath := map[string]Prediction{}
	for _, p := range preds {
		byPath[p.Path] = p
	}
	err = cl.ClassifyInBatches(ctx, paths[:40], 8, func(_ int, got []Prediction) {
		for _, p := range got {
			if w := byPath[p.Path]; p.Label() != w.Label() || p.Rechecked != w.Rechecked || p.Unsure != w.Unsure {
				t.Errorf("%s: in batches %s (rechecked %v), classified %s (rechecked %v)", p.Path, p.Label(), p.Rechecked, w.Label(), w.Rechecked)
			}
		}
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := cl.EvaluateRecorded(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, samples := range map[string][]train.Prediction{"evaluated": ev.Samples, "at training": res.Samples} {
		if len(samples) == 0 {
			t.Errorf("no test photos %s", name)
		}
		for _, s := range samples {
			if got, want := Rank(m.Labels, s.Probs)[0].Label, byPath[s.Path].Label(); got != want {
				t.Errorf("%s %s: %s, classified %s", name, s.Path, got, want)
			}
		}
	}
	// The default export is float, and gives the app's labels: close
	// calls were answered in float, and 8 bits' rounding does not swap
	// the labels of the others. The 8-bit export gives the app's 8-bit
	// answers, not the close calls it answered in float.
	for _, prec := range []Precision{"", PrecisionInt8} {
		file := filepath.Join(t.TempDir(), "flowers-"+string(prec)+".onnx")
		if prec == "" {
			_, err = a.ExportModel(m, file)
		} else {
			_, err = a.ExportModelAs(ctx, m, file, prec, opt.Runtime)
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ceng.Runtime.NewSession(data, export.InputName, export.OutputName, onnxrt.Options{Provider: onnxrt.CPU})
		if err != nil {
			t.Fatalf("%s export: %v", prec, err)
		}
		same, sameKinds, kinds, sameAnswered, answered, sameIn8, in8 := 0, 0, 0, 0, 0, 0, 0
		for b0 := 0; b0 < len(paths); b0 += 8 {
			b1 := min(len(paths), b0+8)
			var in []float32
			for _, p := range paths[b0:b1] {
				px, err := photo.LoadFile(p, inception.Size, photo.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				in = px.AppendFloat32(in, 1, 0)
			}
			probs, err := s.Run(ctx, in, int64(b1-b0), inception.Size, inception.Size, 3)
			if err != nil {
				t.Fatal(err)
			}
			for k := range b1 - b0 {
				p := preds[b0+k]
				agree := Rank(m.Labels, probs[k*len(m.Labels):(k+1)*len(m.Labels)])[0].Label == p.Label()
				if agree {
					same++
				}
				if !p.Rechecked {
					in8++
					if agree {
						sameIn8++
					}
				}
				if !strangers[paths[b0+k]] {
					kinds++
					if agree {
						sameKinds++
					}
					// The labels the app gives rather than "not sure".
					if !p.Unsure {
						answered++
						if agree {
							sameAnswered++
						}
					}
				}
			}
		}
		s.Close()
		share := float64(sameKinds) / float64(kinds)
		t.Logf("%q export: the app's label on %d of %d photos of the model's kinds (%.1f%%; %d of the %d it answers, not \"not sure\"), on %d of %d with the strangers, on %d of the %d answered in 8 bits; %d bytes",
			prec, sameKinds, kinds, 100*share, sameAnswered, answered, same, len(paths), sameIn8, in8, len(data))
		switch {
		case prec == "" && (share < 0.98 || len(data) < 80<<20):
			t.Errorf("the default export of a model trained on 8-bit features gives the app's label on %.1f%% of %d photos (want at least 98%%) in %d bytes (want the float size)", 100*share, kinds, len(data))
		case prec == PrecisionInt8 && (sameIn8 < in8 || len(data) > 40<<20):
			t.Errorf("the 8-bit export gives the app's label on %d of the %d photos it answered in 8 bits (want all) in %d bytes (want the 8-bit size)", sameIn8, in8, len(data))
		}
	}
}
