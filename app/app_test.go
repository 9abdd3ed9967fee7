package app

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/internal/version"
	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/export"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/train"
)

// shared holds what the tests share: an app home with the offline
// backbone installed, an engine on it, and a model trained on the flowers.
var shared struct {
	once  sync.Once
	err   error
	app   *App
	eng   *Engine
	res   *train.Result
	model string // the trained model's file
}

// setup returns the shared fixture, making it on first use. A test whose
// fixture could not be made fails with the reason, as do the tests after
// it.
func setup(t *testing.T) (*App, *Engine, *train.Result, string) {
	t.Helper()
	// What can fail the test is looked up outside the Once: a t.Fatal
	// inside it would leave the fixture half made and marked done.
	backbone, runtime, flowers := mltest.Backbone(t), mltest.RuntimeLibrary(t), mltest.Photos(t, "flowers")
	shared.once.Do(func() {
		shared.err = errors.New("the shared fixture was not made: see the first failing test")
		home, err := os.MkdirTemp("", "clasifica-app-test-")
		if err != nil {
			shared.err = err
			return
		}
		a := New(Dirs{Cache: filepath.Join(home, "cache"), Config: filepath.Join(home, "config"), Data: filepath.Join(home, "data")})
		if _, err := a.Backbones.Import(context.Background(), backbone); err != nil {
			shared.err = err
			return
		}
		eng, err := a.OpenEngine(context.Background(), EngineOptions{Runtime: runtime, Provider: onnxrt.CPU})
		if err != nil {
			shared.err = err
			return
		}
		o := train.DefaultOptions()
		o.Epochs = 15
		out := filepath.Join(home, "flowers")
		res, err := a.Train(context.Background(), eng, TrainRequest{
			Data: flowers, DataOptions: dataset.Options{Validation: 0.2, Test: 0.2},
			Options: o, Out: out,
		}, nil)
		shared.app, shared.eng, shared.res, shared.model, shared.err = a, eng, res, out+model.Ext, err
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.app, shared.eng, shared.res, shared.model
}

func TestMain(m *testing.M) {
	if helperProcess() || settingsWriter() {
		os.Exit(0)
	}
	code := m.Run()
	if shared.app != nil {
		shared.eng.Close()
		os.RemoveAll(filepath.Dir(shared.app.Dirs.Cache))
	}
	os.Exit(code)
}

func TestTrainWritesModel(t *testing.T) {
	_, eng, res, path := setup(t)
	m, err := model.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Producer != version.String() || m.Backbone.SHA256 != eng.Backbone.SHA256 || len(m.Labels) != 5 || len(m.Training.Test) == 0 {
		t.Fatalf("model %+v", m.Meta)
	}
	if res.Evaluated != "test" || res.Report.N != len(m.Training.Test) {
		t.Errorf("evaluated %s on %d photos", res.Evaluated, res.Report.N)
	}
}

// TestCancelledTrainingKeepsModel checks that a cancelled run leaves the
// existing model file as it was.
func TestCancelledTrainingKeepsModel(t *testing.T) {
	a, eng, _, path := setup(t)
	dst := filepath.Join(t.TempDir(), "keep"+model.Ext)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dst, before, 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	o := train.DefaultOptions()
	o.Epochs, o.Patience = 1000, 0
	_, err = a.Train(ctx, eng, TrainRequest{Data: mltest.Photos(t, "flowers"), DataOptions: dataset.DefaultOptions(), Options: o, Out: dst},
		func(e Event) {
			if ep, ok := e.(train.EpochFinished); ok && ep.Epoch.Epoch == 3 {
				cancel()
			}
		})
	if !IsCancel(err) {
		t.Fatalf("err %v, want a cancellation", err)
	}
	after, _ := os.ReadFile(dst)
	if !bytes.Equal(before, after) {
		t.Fatal("a cancelled training changed the model file")
	}
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 1 {
		t.Errorf("files left beside the model: %v", entries)
	}
}

// classifier reads the shared trained model and pairs it with the engine.
func classifier(t *testing.T) (*App, *Classifier, *train.Result) {
	t.Helper()
	a, eng, res, path := setup(t)
	m, err := model.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(m, eng)
	if err != nil {
		t.Fatal(err)
	}
	return a, c, res
}

func TestClassifyAndExport(t *testing.T) {
	a, c, _ := classifier(t)
	m, eng := c.Model, c.Engine
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.jpg")
	os.WriteFile(broken, []byte("no photo"), 0o644)
	paths := []string{
		mltest.Photos(t, "flowers", "tulip", "100930342_92e8746431_n.jpg"),
		broken,
		mltest.Photos(t, "pets", "pug", "pug_112.jpg"),
	}
	preds, err := c.Classify(context.Background(), paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pe *photo.Error
	if !errors.As(preds[1].Err, &pe) || pe.Kind != photo.Unsupported {
		t.Errorf("broken photo: %v", preds[1].Err)
	}
	for _, i := range []int{0, 2} {
		p := preds[i]
		if p.Err != nil || len(p.Top) != 5 || p.Top[0].Probability < p.Top[1].Probability {
			t.Fatalf("prediction %+v", p)
		}
		sum := 0.0
		for _, s := range p.Top {
			sum += s.Probability
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Errorf("probabilities sum to %v", sum)
		}
	}

	// The exported ONNX file, run by plain ONNX Runtime, agrees.
	out := filepath.Join(dir, "flowers.onnx")
	labels, err := a.ExportModel(m, out)
	if err != nil {
		t.Fatal(err)
	}
	lt, _ := os.ReadFile(labels)
	if string(lt) != strings.Join(m.Labels, "\n")+"\n" {
		t.Errorf("labels.txt %q", lt)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s, err := eng.Runtime.NewSession(data, export.InputName, export.OutputName, onnxrt.Options{Provider: onnxrt.CPU})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var in []float32
	for _, i := range []int{0, 2} {
		px, err := photo.LoadFile(paths[i], inception.Size, photo.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		in = px.AppendFloat32(in, 1, 0)
	}
	probs, err := s.Run(context.Background(), in, 2, inception.Size, inception.Size, 3)
	if err != nil {
		t.Fatal(err)
	}
	for k, i := range []int{0, 2} {
		row := probs[k*5 : (k+1)*5]
		if top := Rank(m.Labels, row)[0].Label; top != preds[i].Label() {
			t.Errorf("%s: exported model says %s, classify %s", paths[i], top, preds[i].Label())
		}
		for j := range row {
			if d := math.Abs(float64(row[j] - preds[i].Probs[j])); d > 1e-5 {
				t.Errorf("%s: probability %d differs by %g", paths[i], j, d)
			}
		}
	}

	// CSV: a header, one row per photo, the failure explained.
	var b bytes.Buffer
	if err := WriteCSV(&b, preds); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "path" || rows[1][1] != preds[0].Label() || rows[2][1] != "" || rows[2][9] == "" || rows[3][7] == "" {
		t.Errorf("CSV %q", rows)
	}
}

func TestSortInto(t *testing.T) {
	dir := t.TempDir()
	src := func(name, content string) string {
		p := filepath.Join(dir, "in", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	a, b, c := src("a.jpg", "A"), src("sub/a.jpg", "B"), src("c.jpg", "C")
	preds := []Prediction{
		{Path: a, Top: []Scored{{"cat", 0.9}, {"dog", 0.1}}},
		{Path: b, Top: []Scored{{"cat", 0.8}, {"dog", 0.2}}},
		{Path: c, Top: []Scored{{"dog", 0.55}, {"cat", 0.45}}},
		{Path: filepath.Join(dir, "gone.jpg"), Err: errors.New("unreadable")},
	}
	out := filepath.Join(dir, "out")
	// A file already in the way is never overwritten.
	os.MkdirAll(filepath.Join(out, "cat"), 0o755)
	os.WriteFile(filepath.Join(out, "cat", "a.jpg"), []byte("existing"), 0o644)
	done, err := SortInto(context.Background(), preds, out, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	read := func(rel string) string {
		data, _ := os.ReadFile(filepath.Join(out, rel))
		return string(data)
	}
	if read("cat/a.jpg") != "existing" || read("cat/a (2).jpg") != "A" || read("cat/a (3).jpg") != "B" || read(UnsureFolder+"/c.jpg") != "C" {
		t.Fatalf("sorted %+v", done)
	}
	if _, err := os.Stat(a); err != nil {
		t.Fatal("the original was moved")
	}
	if done[3].To != "" || done[3].Skipped == "" {
		t.Errorf("failed photo: %+v", done[3])
	}
	// Sorting again copies nothing new: identical copies are recognised.
	again, err := SortInto(context.Background(), preds, out, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range again[:3] {
		if s.To != "" {
			t.Errorf("copied again: %+v", s)
		}
	}
}

func TestEvaluate(t *testing.T) {
	_, c, res := classifier(t)
	ev, err := c.EvaluateRecorded(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The recorded test split gives what training reported.
	if ev.Report.N != res.Report.N || math.Abs(ev.Report.Accuracy-res.Report.Accuracy) > 1e-9 {
		t.Errorf("recorded split: %d photos at %.3f, training reported %d at %.3f", ev.Report.N, ev.Report.Accuracy, res.Report.N, res.Report.Accuracy)
	}
	ev, err = c.EvaluateFolder(context.Background(), mltest.Photos(t, "flowers"), dataset.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Report.N != 150 || len(ev.Report.Confusion) != 5 {
		t.Errorf("folder: %d photos", ev.Report.N)
	}
	if _, err := c.EvaluateFolder(context.Background(), mltest.Photos(t, "pets"), dataset.Options{}, nil); err == nil ||
		!strings.Contains(err.Error(), "not one the model knows") {
		t.Errorf("unknown classes: %v", err)
	}
}

func TestBackboneStore(t *testing.T) {
	a, eng, _, _ := setup(t)
	s := a.Backbones
	all, err := s.List()
	if err != nil || len(all) != 1 || all[0].ID != OfflineBackboneID || !all[0].Offline() {
		t.Fatalf("List = %+v, %v", all, err)
	}
	// Importing the same weights again, even from the .h5 file, changes
	// nothing: it is the same backbone.
	in, err := s.Import(context.Background(), mltest.BackboneH5(t))
	if err != nil || in.SHA256 != eng.Backbone.SHA256 {
		t.Fatalf("import h5: %+v, %v", in, err)
	}
	if err := s.Verify(context.Background(), OfflineBackboneID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Find(model.Backbone{ID: backbone.ImageNetID, Name: backbone.ImageNetName, SHA256: "ab"})
	if err == nil || !strings.Contains(err.Error(), "backbone download") {
		t.Errorf("missing ImageNet backbone: %v", err)
	}
	if _, err := a.ResolveBackbone(context.Background(), "no-such"); err == nil {
		t.Error("unknown backbone resolved")
	}

	// A damaged backbone fails verification, naming the problem.
	copyDir := t.TempDir()
	other := &Backbones{Dir: copyDir}
	if _, err := other.Import(context.Background(), mltest.Backbone(t)); err != nil {
		t.Fatal(err)
	}
	shard := filepath.Join(copyDir, OfflineBackboneID, "group1-shard1of6.bin")
	data, _ := os.ReadFile(shard)
	data[100] ^= 0xff
	os.WriteFile(shard, data, 0o644)
	if err := other.Verify(context.Background(), OfflineBackboneID); err == nil || !strings.Contains(err.Error(), "changed on disk") {
		t.Errorf("verify after damage: %v", err)
	}
	if _, err := (&Backbones{Dir: t.TempDir()}).Default(""); !errors.Is(err, ErrNoBackbone) {
		t.Errorf("empty store: %v", err)
	}
}

// TestDownloadResumes serves a backbone over HTTP, cutting the first
// response short: the second attempt resumes, checks the MD5 and installs.
func TestDownloadResumes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(mltest.BackboneH5(t), "weights.h5"))
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	var mu sync.Mutex
	var ranges []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		first := len(ranges) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Content-Length", itoa(len(data)))
			w.Write(data[:len(data)/3])
			return // the connection ends early
		}
		http.ServeContent(w, r, "weights.h5", time.Time{}, bytes.NewReader(data))
	}))
	defer srv.Close()
	store := &Backbones{Dir: filepath.Join(t.TempDir(), "backbones")}
	downloads := t.TempDir()
	url := srv.URL + "/weights.h5"
	want := hex.EncodeToString(sum[:])
	if _, err := store.download(context.Background(), url, want, downloads, srv.Client(), nil); err == nil {
		t.Fatal("a cut download succeeded")
	}
	var last Download
	in, err := store.download(context.Background(), url, want, downloads, srv.Client(), func(d Download) { last = d })
	if err != nil {
		t.Fatal(err)
	}
	if ranges[1] != "bytes="+itoa(len(data)/3)+"-" {
		t.Errorf("second request asked for %q", ranges[1])
	}
	// The resumed third cost nothing this time: the rate leaves it out.
	if last.Done != len(data) || last.Total != len(data) || last.FromCache != len(data)/3 {
		t.Errorf("last progress %+v", last)
	}
	// The .h5 file came without an info file and under another name: its
	// weights say it is the test model, with its own preprocessing.
	if in.ID != OfflineBackboneID || !in.Offline() || in.Preprocess != inception.UnitRange {
		t.Errorf("installed %+v", in.Info)
	}
	// A corrupt download is refused and deleted.
	if _, err := store.download(context.Background(), url, strings.Repeat("0", 32), t.TempDir(), srv.Client(), nil); err == nil || !strings.Contains(err.Error(), "MD5") {
		t.Errorf("bad checksum: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestFindRuntime(t *testing.T) {
	dirs := Dirs{Cache: t.TempDir()}
	lib := mltest.RuntimeLibrary(t)
	t.Setenv("ONNXRUNTIME_LIB", "")
	if p, err := FindRuntime(lib, dirs); err != nil || p != lib {
		t.Errorf("explicit: %s, %v", p, err)
	}
	if _, err := FindRuntime(filepath.Join(dirs.Cache, "nope.so"), dirs); err == nil {
		t.Error("missing explicit library accepted")
	}
	t.Setenv("ONNXRUNTIME_LIB", lib)
	if p, err := FindRuntime("", dirs); err != nil || p != lib {
		t.Errorf("environment: %s, %v", p, err)
	}
	t.Setenv("ONNXRUNTIME_LIB", "")
	_, err := FindRuntime("", dirs)
	var missing *RuntimeMissingError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "npm pack onnxruntime-node@"+RuntimeVersion) ||
		!strings.Contains(err.Error(), dirs.Runtime()) {
		t.Errorf("missing runtime: %v", err)
	}
	os.MkdirAll(dirs.Runtime(), 0o755)
	os.WriteFile(filepath.Join(dirs.Runtime(), runtimeNames()[0]), []byte("x"), 0o644)
	if p, err := FindRuntime("", dirs); err != nil || filepath.Dir(p) != dirs.Runtime() {
		t.Errorf("cache folder: %s, %v", p, err)
	}
}

func TestNeedsRescan(t *testing.T) {
	d, err := ScanFolder(context.Background(), mltest.Photos(t, "flowers"), dataset.Options{Validation: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		d    *dataset.Dataset
		opt  dataset.Options
		want bool
	}{
		{"no scan", nil, dataset.Options{Validation: 0.2}, true},
		{"same shares", d, dataset.Options{Validation: 0.2, Workers: 8}, false},
		{"other validation share", d, dataset.Options{Validation: 0.3}, false},
		{"a test share", d, dataset.Options{Validation: 0.2, Test: 0.1}, false},
		{"pets by species", d, dataset.Options{Validation: 0.2, Granularity: dataset.Species}, true},
		{"not from a scan", &dataset.Dataset{Root: d.Root, Items: d.Items, Classes: d.Classes}, dataset.Options{}, true},
	} {
		if got := NeedsRescan(tc.d, tc.opt); got != tc.want {
			t.Errorf("%s: NeedsRescan = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTrainResplits checks that a training job given a scan made with
// other shares divides it again without reading the folder (no scan
// progress, a photo added since not seen, the scan's problems kept),
// exactly as a new scan would, and says so before training.
func TestTrainResplits(t *testing.T) {
	a, eng, _, _ := setup(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(mltest.Photos(t, "flowers"))); err != nil {
		t.Fatal(err)
	}
	old, err := ScanFolder(context.Background(), dir, dataset.Options{Validation: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	// What a new scan with the new shares gives, before the folder
	// changes under the old scan.
	want, err := ScanFolder(context.Background(), dir, dataset.Options{Validation: 0.4, Test: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	// A problem the old scan knows of and a new scan would not see, and
	// a file a new scan would find.
	old.Problems = append(old.Problems, dataset.Problem{Path: filepath.Join(dir, "found-by-the-check.jpg"), Reason: dataset.ReasonUndecodable})
	if err := os.WriteFile(filepath.Join(dir, "late.txt"), []byte("added after the scan"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var scanned *dataset.Dataset
	var scanning int
	_, err = a.Train(ctx, eng, TrainRequest{Dataset: old, DataOptions: dataset.Options{Validation: 0.4, Test: 0.1}, Options: train.DefaultOptions()},
		func(e Event) {
			switch e := e.(type) {
			case Scanning:
				scanning++
			case Scanned:
				scanned = e.Dataset
				cancel()
			}
		})
	if !IsCancel(err) {
		t.Fatalf("err %v, want the cancellation after the split", err)
	}
	if scanned == nil || scanning != 0 {
		t.Fatalf("new split reported: %v; %d scan progress events, want none", scanned != nil, scanning)
	}
	if !slices.Equal(scanned.Items, want.Items) || scanned.Options.Validation != 0.4 || scanned.Options.Test != 0.1 {
		t.Errorf("split: %d photos, shares %v/%v; want a new scan's %d photos and splits, 0.4/0.1",
			len(scanned.Items), scanned.Options.Validation, scanned.Options.Test, len(want.Items))
	}
	if !slices.Equal(scanned.Problems, old.Problems) {
		t.Errorf("problems %v; want the old scan's %v", scanned.Problems, old.Problems)
	}
	if old.Options.Validation != 0.2 {
		t.Errorf("the old scan was changed: %+v", old.Options)
	}
}
