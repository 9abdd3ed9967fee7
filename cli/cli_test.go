package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"hash/crc32"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/explain"
	"github.com/clasifica/clasifica/ml/model"
)

// clasifica runs the command line in-process and returns its exit code and
// outputs.
func clasifica(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	dirs, err := app.DefaultDirs()
	if err != nil {
		t.Fatal(err)
	}
	code := Run(context.Background(), app.New(dirs), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCommandLine walks through what a user does: install a backbone,
// inspect a folder, train, classify, evaluate and export.
func TestCommandLine(t *testing.T) {
	home := t.TempDir()
	t.Setenv("CLASIFICA_HOME", home)
	t.Setenv("ONNXRUNTIME_LIB", mltest.RuntimeLibrary(t))
	flowers := mltest.Photos(t, "flowers")
	modelPath := filepath.Join(home, "flowers.clasifica")

	t.Run("backbone list, empty", func(t *testing.T) {
		code, out, _ := clasifica(t, "backbone", "list")
		if code != 0 || !strings.Contains(out, "no backbone is installed") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("backbone import", func(t *testing.T) {
		code, out, errOut := clasifica(t, "backbone", "import", mltest.Backbone(t))
		if code != 0 || !strings.Contains(out, "Installed nsfwjs InceptionV3") {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
		code, out, _ = clasifica(t, "backbone", "list")
		if code != 0 || !strings.Contains(out, "nsfwjs-inceptionv3") || !strings.Contains(out, "(default)") {
			t.Fatalf("exit %d: %s", code, out)
		}
		code, out, _ = clasifica(t, "backbone", "list", "--format", "json")
		var list []struct {
			ID      string `json:"id"`
			SHA256  string `json:"sha256"`
			Default bool   `json:"default"`
			Offline bool   `json:"offline"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || !list[0].Default || !list[0].Offline || len(list[0].SHA256) != 64 {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("dataset inspect, after import", func(t *testing.T) {
		code, out, _ := clasifica(t, "dataset", "inspect", flowers, "--format", "json")
		var s struct {
			Layout  string `json:"layout"`
			Classes []struct {
				Name string `json:"name"`
			} `json:"classes"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.Layout != "class-folders" || len(s.Classes) != 5 {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("train, after import", func(t *testing.T) {
		code, out, errOut := clasifica(t, "train", "--data", flowers, "--out", modelPath, "--epochs", "12", "--test", "0.2", "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var s trainSummary
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if s.Model != modelPath || len(s.Labels) != 5 || s.Evaluated != "test" || s.Accuracy == nil || s.ValAccuracy == nil || s.RunsOn.Provider == "" {
			t.Errorf("summary %+v", s)
		}
		if th := s.Threshold; th == nil || th.Basis != model.BasisOutOfFold || th.Folds != 5 || th.Photos != s.Train+s.Validation || th.Test == nil || th.Test.Photos != s.Test {
			t.Errorf("summary's threshold %+v", s.Threshold)
		}
		if s.Strangers == nil || !s.Strangers.Judged {
			t.Errorf("summary's strangers %+v: the flowers model judges them", s.Strangers)
		}
		// 150 photos do not earn an 8-bit check back: auto runs float
		// at once and says how to check.
		for _, want := range []string{"Backbone: nsfwjs", "offline test backbone", "features", "epoch", "val_loss", "not-sure threshold, 5 heads",
			"Precision: float: 8 bits are not checked yet on this computer (`clasifica bench --check-precision`"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("progress lacks %q:\n%s", want, errOut)
			}
		}
		if strings.Contains(errOut, "Checking 8 bits") {
			t.Errorf("training 150 photos waited for the 8-bit check:\n%s", errOut)
		}
	})
	t.Run("classify json, the trained model", func(t *testing.T) {
		code, out, errOut := clasifica(t, "classify", "--model", modelPath, "--format", "json", filepath.Join(flowers, "daisy"))
		var preds []struct {
			Path        string  `json:"path"`
			Label       string  `json:"label"`
			Probability float64 `json:"probability"`
			Top         []struct {
				Label string `json:"label"`
			} `json:"top"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &preds) != nil || len(preds) != 30 {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
		if preds[0].Label == "" || preds[0].Probability <= 0 || len(preds[0].Top) != 3 {
			t.Errorf("prediction %+v", preds[0])
		}
	})
	t.Run("classify csv and sort, the trained model", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "sorted")
		code, stdout, errOut := clasifica(t, "classify", "--model", modelPath, "--format", "csv", "--sort-into", out, "--min-confidence", "0.5", filepath.Join(flowers, "rose"))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
		if err != nil || len(rows) != 31 || rows[0][1] != "label" {
			t.Fatalf("csv: %v %q", err, rows)
		}
		copied := 0
		filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				copied++
			}
			return nil
		})
		if copied != 30 {
			t.Errorf("%d photos copied, want 30", copied)
		}
	})
	t.Run("classify table, the trained model", func(t *testing.T) {
		code, out, _ := clasifica(t, "classify", "--model", modelPath, filepath.Join(flowers, "tulip", "100930342_92e8746431_n.jpg"))
		if code != 0 || !strings.Contains(out, "LABEL") || !strings.Contains(out, "RUNNER-UP") || !strings.Contains(out, "%") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("eval json, the trained model", func(t *testing.T) {
		code, out, errOut := clasifica(t, "eval", "--model", modelPath, "--data", flowers, "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var r map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"n", "accuracy", "labels", "per_class", "confusion", "runs_on"} {
			if _, ok := r[k]; !ok {
				t.Errorf("eval JSON lacks %q: %s", k, out)
			}
		}
		var pc map[string]map[string]float64
		json.Unmarshal(r["per_class"], &pc)
		if d := pc["daisy"]; len(d) != 4 || d["support"] != 30 {
			t.Errorf("per_class daisy %v", d)
		}
		code, out, _ = clasifica(t, "eval", "--model", modelPath)
		if code != 0 || !strings.Contains(out, "accuracy") {
			t.Errorf("recorded test split: exit %d: %s", code, out)
		}
	})
	t.Run("not sure, the trained model", func(t *testing.T) {
		m, err := model.ReadFile(modelPath)
		if err != nil {
			t.Fatal(err)
		}
		th := m.Threshold
		if th == nil || th.TargetAccuracy != 0.95 || th.Test == nil {
			t.Fatalf("the model's threshold: %+v", th)
		}
		type pred struct {
			Label       string  `json:"label"`
			Probability float64 `json:"probability"`
			Unsure      bool    `json:"unsure"`
		}
		classify := func(extra ...string) []pred {
			args := append([]string{"classify", "--model", modelPath, "--format", "json"}, extra...)
			code, out, errOut := clasifica(t, append(args, filepath.Join(flowers, "tulip"))...)
			var preds []pred
			if code != 0 || json.Unmarshal([]byte(out), &preds) != nil || len(preds) != 30 {
				t.Fatalf("exit %d: %s %s", code, out, errOut)
			}
			return preds
		}
		// The model's threshold by default; 0 answers every photo.
		unsure := 0
		for _, p := range classify() {
			if p.Unsure != (p.Probability < th.Value) || p.Label == "" {
				t.Errorf("%+v with threshold %v", p, th.Value)
			}
			if p.Unsure {
				unsure++
			}
		}
		for _, p := range classify("--min-confidence", "0") {
			if p.Unsure {
				t.Errorf("--min-confidence 0 answered %+v not sure", p)
			}
		}
		for _, p := range classify("--min-confidence", "1") {
			if !p.Unsure && p.Probability < 1 {
				t.Errorf("--min-confidence 1 answered %+v", p)
			}
		}
		t.Logf("threshold %.3f: %d of 30 tulips not sure", th.Value, unsure)
		code, out, errOut := clasifica(t, "eval", "--model", modelPath, "--data", flowers, "--format", "json")
		var r struct {
			N         int `json:"n"`
			Threshold *struct {
				Value          float64 `json:"value"`
				TargetAccuracy float64 `json:"target_accuracy"`
				Coverage       float64 `json:"coverage"`
				Accuracy       float64 `json:"accuracy"`
				Answered       int     `json:"answered"`
				Basis          string  `json:"basis"`
				PromisePhotos  int     `json:"promise_photos"`
				Folds          int     `json:"folds"`
				Optimistic     *bool   `json:"optimistic"`
				TestAtTraining *struct {
					Photos int `json:"photos"`
				} `json:"test_at_training"`
			} `json:"threshold"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Threshold == nil {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
		if g := r.Threshold; g.Value != th.Value || g.TargetAccuracy != 0.95 || g.Coverage <= 0 || g.Coverage > 1 ||
			g.Answered != int(math.Round(g.Coverage*float64(r.N))) || g.Accuracy <= 0 || g.Accuracy > 1 {
			t.Errorf("eval threshold %+v on %d photos", g, r.N)
		}
		if g := r.Threshold; g.Basis != model.BasisOutOfFold || g.PromisePhotos != th.Photos || g.Folds != 5 || g.Optimistic == nil || *g.Optimistic ||
			g.TestAtTraining == nil || g.TestAtTraining.Photos != th.Test.Photos {
			t.Errorf("eval threshold's basis %+v, the model's %+v", g, th)
		}
		code, out, _ = clasifica(t, "eval", "--model", modelPath)
		if code != 0 || !strings.Contains(out, "Not sure below") {
			t.Errorf("eval table: exit %d: %s", code, out)
		}
	})
	t.Run("not one of its kinds, the trained model", func(t *testing.T) {
		// The offline backbone sets pets apart from the sample flowers
		// (app.TestNotOneOfItsKinds), so the flowers model judges them.
		pets := mltest.Photos(t, "pets", "beagle")
		out := filepath.Join(t.TempDir(), "sorted")
		code, stdout, errOut := clasifica(t, "classify", "--model", modelPath, "--format", "json", "--sort-into", out, pets)
		var preds []struct {
			Path          string   `json:"path"`
			Label         string   `json:"label"`
			Stranger      bool     `json:"stranger"`
			StrangerScore *float64 `json:"stranger_score"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &preds) != nil || len(preds) != 4 {
			t.Fatalf("exit %d: %s %s", code, stdout, errOut)
		}
		strangers := 0
		for _, p := range preds {
			if p.StrangerScore == nil || p.Stranger != (*p.StrangerScore >= 0.5) || p.Label == "" {
				t.Errorf("%+v", p)
			}
			if p.Stranger {
				strangers++
				if _, err := os.Stat(filepath.Join(out, app.StrangersFolder, filepath.Base(p.Path))); err != nil {
					t.Errorf("%s not sorted into %s: %v", p.Path, app.StrangersFolder, err)
				}
			}
		}
		if strangers < 3 {
			t.Errorf("%d of 4 beagles answered \"not one of its kinds\" by the flowers model", strangers)
		}
		code, stdout, _ = clasifica(t, "classify", "--model", modelPath, pets)
		if code != 0 || !strings.Contains(stdout, "not one of its kinds (") {
			t.Errorf("table: exit %d: %s", code, stdout)
		}
		code, stdout, errOut = clasifica(t, "eval", "--model", modelPath, "--format", "json")
		var r struct {
			N         int `json:"n"`
			Strangers *struct {
				Judged   bool `json:"judged"`
				Answered int  `json:"answered"`
				Photos   int  `json:"photos"`
			} `json:"strangers"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil || r.Strangers == nil || !r.Strangers.Judged || r.Strangers.Photos != r.N {
			t.Fatalf("eval: exit %d: %s %s", code, stdout, errOut)
		}
		t.Logf("eval: %d of %d test flowers answered \"not one of its kinds\"", r.Strangers.Answered, r.N)
		if r.Strangers.Answered > r.N/10 {
			t.Errorf("%d of %d test flowers answered \"not one of its kinds\"", r.Strangers.Answered, r.N)
		}
	})
	t.Run("classify --explain, the trained model", func(t *testing.T) {
		dir := t.TempDir()
		photos, _ := filepath.Glob(filepath.Join(flowers, "sunflower", "*.jpg"))
		code, out, errOut := clasifica(t, "classify", "--model", modelPath, "--format", "json", "--explain", dir, photos[0], photos[1])
		var preds []struct {
			Path    string      `json:"path"`
			Heatmap [][]float64 `json:"heatmap"`
			Overlay string      `json:"overlay"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &preds) != nil || len(preds) != 2 {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
		side := explain.DefaultLayer.Side
		for _, p := range preds {
			if len(p.Heatmap) != side || len(p.Heatmap[0]) != side {
				t.Fatalf("%s: heatmap %v, want %d×%d", p.Path, p.Heatmap, side, side)
			}
			peak := 0.0
			for _, row := range p.Heatmap {
				for _, v := range row {
					if v < 0 || v > 1 {
						t.Errorf("%s: heatmap value %v", p.Path, v)
					}
					peak = max(peak, v)
				}
			}
			if peak != 1 {
				t.Errorf("%s: heatmap peaks at %v", p.Path, peak)
			}
			f, err := os.Open(p.Overlay)
			if err != nil || filepath.Dir(p.Overlay) != dir {
				t.Fatalf("overlay %q: %v", p.Overlay, err)
			}
			cfg, err := png.DecodeConfig(f)
			f.Close()
			if err != nil || cfg.Width == 0 {
				t.Errorf("overlay %s: %v", p.Overlay, err)
			}
		}
		if !strings.Contains(errOut, "Wrote 2 heatmaps into") {
			t.Errorf("stderr: %s", errOut)
		}
		// Without --explain there is no heatmap.
		_, out, _ = clasifica(t, "classify", "--model", modelPath, "--format", "json", photos[0])
		if strings.Contains(out, "heatmap") {
			t.Errorf("a heatmap without --explain: %s", out)
		}
		// The other layer, chosen: its grid.
		for _, l := range explain.Layers() {
			code, out, errOut = clasifica(t, "classify", "--model", modelPath, "--format", "json", "--explain", t.TempDir(), "--explain-layer", l.Name, photos[0])
			if code != 0 || json.Unmarshal([]byte(out), &preds) != nil || len(preds) != 1 {
				t.Fatalf("--explain-layer %s: exit %d: %s %s", l.Name, code, out, errOut)
			}
			if g := preds[0].Heatmap; len(g) != l.Side || len(g[l.Side-1]) != l.Side {
				t.Errorf("--explain-layer %s: heatmap of %d rows, want %d×%d", l.Name, len(g), l.Side, l.Side)
			}
		}
		code, _, errOut = clasifica(t, "classify", "--model", modelPath, "--explain", t.TempDir(), "--explain-layer", "mixed3", photos[0])
		if code == 0 || !strings.Contains(errOut, "--explain-layer \"mixed3\"") {
			t.Errorf("--explain-layer mixed3: exit %d: %s", code, errOut)
		}
	})
	t.Run("train --continue compares, the trained model", func(t *testing.T) {
		before, err := model.ReadFile(modelPath)
		if err != nil {
			t.Fatal(err)
		}
		code, out, _ := clasifica(t, "eval", "--model", modelPath, "--format", "json")
		var ev struct {
			Accuracy float64 `json:"accuracy"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &ev) != nil {
			t.Fatalf("eval: exit %d: %s", code, out)
		}
		next := filepath.Join(t.TempDir(), "next.clasifica")
		code, out, errOut := clasifica(t, "train", "--data", flowers, "--out", next, "--continue", modelPath, "--epochs", "2", "--test", "0.2", "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var s trainSummary
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		c := s.Comparison
		if c == nil || c.Evaluated != "test" || c.N != len(before.Training.Test) || len(c.Kinds) != 5 {
			t.Fatalf("comparison %+v", c)
		}
		// Before is the old model on its own test photos: the same
		// photos, the same answer as eval's.
		if math.Abs(c.Before-ev.Accuracy) > 1e-9 || s.Accuracy == nil || math.Abs(c.After-*s.Accuracy) > 1e-9 {
			t.Errorf("before %.3f (eval says %.3f), after %.3f (train says %v)", c.Before, ev.Accuracy, c.After, s.Accuracy)
		}
		if got := int(math.Round((c.After - c.Before) * float64(c.N))); got != len(c.Fixed)-len(c.Broken) {
			t.Errorf("accuracy moved by %d photos, %d fixed and %d broken", got, len(c.Fixed), len(c.Broken))
		}
		// Each photo that changed answer, with both answers.
		if len(c.Changed) != len(c.Fixed)+len(c.Broken) {
			t.Errorf("%d photos changed answer, %d fixed and %d broken", len(c.Changed), len(c.Fixed), len(c.Broken))
		}
		for _, ch := range c.Changed {
			if ch.Fixed != (ch.After == ch.Truth) || ch.Before == ch.After {
				t.Errorf("changed: %+v", ch)
			}
		}
		m, err := model.ReadFile(next)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(m.History); n != len(before.History)+1 || !m.History[n-1].Continued || m.History[n-1].Accuracy != c.After {
			t.Errorf("history %+v", m.History)
		}
		_, out, _ = clasifica(t, "train", "--data", flowers, "--out", next, "--continue", modelPath, "--epochs", "1", "--test", "0.2")
		if !strings.Contains(out, "Before → after, on the same") {
			t.Errorf("table output: %s", out)
		}
	})
	t.Run("export, the trained model", func(t *testing.T) {
		onnx := filepath.Join(t.TempDir(), "flowers.onnx")
		code, _, errOut := clasifica(t, "export", "--model", modelPath, "--onnx", onnx)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if st, err := os.Stat(onnx); err != nil || st.Size() < 80<<20 {
			t.Errorf("export: %v", err)
		}
		if l, _ := os.ReadFile(filepath.Join(filepath.Dir(onnx), "labels.txt")); string(l) != "daisy\ndandelion\nrose\nsunflower\ntulip\n" {
			t.Errorf("labels.txt %q", l)
		}
	})
	t.Run("cache, after train", func(t *testing.T) {
		// The 150 flowers, and 2 of the probe photos training shows the
		// image model (its flower and landscape are sample flowers).
		code, out, _ := clasifica(t, "cache", "info")
		if code != 0 || !strings.Contains(out, "152 cached feature vectors") {
			t.Errorf("exit %d: %s", code, out)
		}
		code, out, _ = clasifica(t, "cache", "info", "--format", "json")
		var info struct{ Entries int }
		if code != 0 || json.Unmarshal([]byte(out), &info) != nil || info.Entries != 152 {
			t.Errorf("exit %d: %s", code, out)
		}
	})
}

func TestCommandLineErrors(t *testing.T) {
	t.Setenv("CLASIFICA_HOME", t.TempDir())
	t.Setenv("ONNXRUNTIME_LIB", "")
	tests := []struct {
		name   string
		args   []string
		code   int
		errHas string
	}{
		{"unknown command", []string{"fly"}, 2, `unknown command "fly"`},
		{"missing flags", []string{"train"}, 2, "--data and --out required"},
		{"bad flag", []string{"classify", "--nope"}, 2, "flag provided but not defined"},
		{"no photos named", []string{"classify", "--model", "m.clasifica"}, 2, "name photos or folders"},
		{"not a model", []string{"classify", "--model", filepath.Join(mltest.Root(t), "go.mod"), mltest.Photos(t, "flowers", "daisy")}, 1, "not a Clasifica model file"},
		{"a flat folder", []string{"dataset", "inspect", mltest.Photos(t, "flowers", "daisy")}, 1, "Put the photos of each kind in a folder"},
		{"bad format", []string{"classify", "--model", "m", "--format", "xml", "x.jpg"}, 1, "want table, csv or json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := clasifica(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.errHas) {
				t.Fatalf("exit %d, stderr %q; want exit %d with %q", code, errOut, tt.code, tt.errHas)
			}
		})
	}
	code, out, _ := clasifica(t, "help")
	if code != 0 || !strings.Contains(out, "Commands:") {
		t.Errorf("help: %d %s", code, out)
	}
}

// TestDatasetInspectCheck checks that every bad file shows before
// training: the scan reports a decompression bomb and a cut header from
// their headers, and --check also finds the truncated photo.
func TestDatasetInspectCheck(t *testing.T) {
	t.Setenv("CLASIFICA_HOME", t.TempDir())
	root := t.TempDir()
	for _, class := range []string{"daisy", "rose"} {
		src, err := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers", class), "*.jpg"))
		if err != nil || len(src) < 5 {
			t.Fatalf("sample photos: %v", err)
		}
		for _, p := range src[:5] {
			copyFile(t, p, filepath.Join(root, class, filepath.Base(p)))
		}
	}
	jpeg, err := os.ReadFile(filepath.Join(root, "rose", mustGlobOne(t, filepath.Join(root, "rose", "*.jpg"))))
	if err != nil {
		t.Fatal(err)
	}
	write := func(rel string, data []byte) {
		if err := os.WriteFile(filepath.Join(root, rel), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("daisy/truncated.jpg", jpeg[:len(jpeg)/3])
	write("daisy/cut.jpg", jpeg[:20])
	write("rose/bomb.png", bombPNG())

	problems := func(args ...string) map[string]int {
		code, out, errOut := clasifica(t, append([]string{"dataset", "inspect", root, "--format", "json"}, args...)...)
		var s struct {
			Problems []struct {
				Reason   string   `json:"reason"`
				Count    int      `json:"count"`
				Examples []string `json:"examples"`
			} `json:"problems"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
		got := map[string]int{}
		for _, p := range s.Problems {
			for _, ex := range p.Examples {
				got[filepath.Base(ex)+" "+p.Reason]++
			}
		}
		return got
	}
	scan := problems()
	if scan["bomb.png too-large"] != 1 || scan["cut.jpg undecodable"] != 1 || len(scan) != 2 {
		t.Errorf("scan problems %v, want bomb.png too-large and cut.jpg undecodable", scan)
	}
	checked := problems("--check")
	if checked["truncated.jpg undecodable"] != 1 || len(checked) != 3 {
		t.Errorf("--check problems %v, want truncated.jpg too", checked)
	}
	code, out, errOut := clasifica(t, "dataset", "inspect", root, "--check")
	if code != 0 || !strings.Contains(out, "truncated.jpg") || !strings.Contains(errOut, "checking photos") {
		t.Errorf("exit %d: %s\n%s", code, out, errOut)
	}
}

// bombPNG returns a PNG whose header declares 100000×100000 pixels.
func bombPNG() []byte {
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), 100000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 100000)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	b := binary.BigEndian.AppendUint32([]byte("\x89PNG\r\n\x1a\n"), 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustGlobOne(t *testing.T, pattern string) string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil || len(m) == 0 {
		t.Fatalf("glob %s: %v", pattern, err)
	}
	return filepath.Base(m[0])
}
