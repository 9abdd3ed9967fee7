package app

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

// petPhotos returns the sample pet photos, each with its species (cat for
// the capitalised breeds, as the Oxford-IIIT Pet dataset names them).
func petPhotos(t *testing.T) (paths, species []string) {
	t.Helper()
	root := mltest.Photos(t, "pets")
	breeds, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range breeds {
		files, _ := filepath.Glob(filepath.Join(root, b.Name(), "*.jpg"))
		for _, f := range files {
			paths = append(paths, f)
			species = append(species, map[bool]string{true: "cat", false: "dog"}[unicode.IsUpper([]rune(b.Name())[0])])
		}
	}
	return paths, species
}

// classifyCached classifies paths with c, keeping their features in the
// engine's cache (the tests classify the same pets more than once).
func classifyCached(t *testing.T, c *Classifier, paths []string) []Prediction {
	t.Helper()
	items := make([]features.Item, len(paths))
	for i, p := range paths {
		items[i] = features.Item{Path: p, Hash: fileHash(t, p)}
	}
	res, err := c.Engine.Extractor(true).Extract(context.Background(), items, nil)
	if err != nil {
		t.Fatal(err)
	}
	preds, err := c.predictions(context.Background(), items, res, 0, len(items))
	if err != nil {
		t.Fatal(err)
	}
	return preds
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// TestNotOneOfItsKinds is the case the offline test backbone can see: a
// model of the five sample flowers answers "not one of its kinds" for
// pets and for Clasifica's own screenshots, and rarely for its own test
// flowers.
func TestNotOneOfItsKinds(t *testing.T) {
	_, c, _ := classifier(t)
	if judged, why := c.JudgesStrangers(); !judged {
		t.Fatalf("the flowers model does not judge strangers: %s", why)
	}
	if note := StrangersNote(c.Model); !strings.Contains(note, "Not one of its kinds") {
		t.Errorf("note %q", note)
	}
	pets, _ := petPhotos(t)
	shots, _ := filepath.Glob("../docs/screenshots/*.png")
	if len(shots) < 5 {
		t.Fatalf("%d screenshots in docs/screenshots", len(shots))
	}
	preds := classifyCached(t, c, append(pets, shots...))
	caught := map[string]int{}
	for i, p := range preds {
		if p.Err != nil {
			t.Fatalf("%s: %v", p.Path, p.Err)
		}
		kind := "pets"
		if i >= len(pets) {
			kind = "screenshots"
		}
		if p.Stranger {
			caught[kind]++
			if p.StrangerScore < 0.5 || p.Label() == "" {
				t.Errorf("%s: a stranger with score %.2f, best guess %q", p.Path, p.StrangerScore, p.Label())
			}
		}
	}
	ev, err := c.EvaluateRecorded(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := ev.Strangers
	if s == nil || !s.Judged {
		t.Fatalf("evaluation's strangers: %+v", s)
	}
	t.Logf("not one of its kinds: %d of %d pets, %d of %d screenshots; false alarms: %d of %d test flowers %v",
		caught["pets"], len(pets), caught["screenshots"], len(shots), s.Answered, s.Photos, s.Paths)
	if caught["pets"] < len(pets)*3/4 || caught["screenshots"] < len(shots)*3/4 {
		t.Errorf("caught %d of %d pets and %d of %d screenshots; want three quarters", caught["pets"], len(pets), caught["screenshots"], len(shots))
	}
	if s.Answered > s.Photos/10 {
		t.Errorf("%d of %d test flowers answered \"not one of its kinds\"", s.Answered, s.Photos)
	}

	// Sorting puts them in their own folder, never among the flowers.
	out := t.TempDir()
	if _, err := SortInto(context.Background(), preds[len(pets)-3:], out, c.MinConfidence); err != nil {
		t.Fatal(err)
	}
	for _, p := range preds[len(pets)-3:] {
		if !p.Stranger {
			continue
		}
		if _, err := os.Stat(filepath.Join(out, StrangersFolder, filepath.Base(p.Path))); err != nil {
			t.Errorf("stranger %s not in %s: %v", p.Path, StrangersFolder, err)
		}
	}
}

// TestStrangersTurnedOff is the case the offline test backbone cannot
// see: against cats and dogs (its features put every photo that is not
// nude alike), pages of text and screenshots are not set apart, so
// training turns the answer off and says why, and classify never gives it.
func TestStrangersTurnedOff(t *testing.T) {
	a, eng, _, _ := setup(t)
	dir := t.TempDir()
	pets, species := petPhotos(t)
	for i, p := range pets {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, species[i], filepath.Base(p))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o := train.DefaultOptions()
	o.Epochs = 10
	out := filepath.Join(t.TempDir(), "species")
	res, err := a.Train(context.Background(), eng, TrainRequest{Data: dir, DataOptions: dataset.Options{Validation: 0.2}, Options: o, Out: out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.ReadFile(out + model.Ext)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Strangers
	if s == nil || s.Judged || s.Reason == "" || len(s.Classes) != 0 {
		t.Fatalf("strangers %+v; want turned off with a reason", s)
	}
	t.Logf("turned off: %s", s.Reason)
	c, err := NewClassifier(m, eng)
	if err != nil {
		t.Fatal(err)
	}
	if judged, why := c.JudgesStrangers(); judged || why == "" {
		t.Errorf("judged %v, %q", judged, why)
	}
	if note := StrangersNote(m); !strings.Contains(note, "cannot") {
		t.Errorf("note %q", note)
	}
	flowers := mltest.Photos(t, "flowers", "daisy")
	files, _ := filepath.Glob(filepath.Join(flowers, "*.jpg"))
	for _, p := range classifyCached(t, c, files[:5]) {
		if p.Stranger || p.StrangerScore != 0 {
			t.Errorf("%s answered as a stranger by a model that does not judge them", p.Path)
		}
	}
	_ = res
}

// TestStrangersOldModel: a model file from before the statistics answers
// every photo with one of its kinds, and says it was trained before.
func TestStrangersOldModel(t *testing.T) {
	_, c, _ := classifier(t)
	m := *c.Model
	m.Strangers = nil
	old, err := NewClassifier(&m, c.Engine)
	if err != nil {
		t.Fatal(err)
	}
	if judged, why := old.JudgesStrangers(); judged || !strings.Contains(why, "train it again") {
		t.Errorf("judged %v, %q", judged, why)
	}
	if StrangersNote(&m) != "" {
		t.Errorf("an old model has a note: %q", StrangersNote(&m))
	}
	shots, _ := filepath.Glob("../docs/screenshots/*.png")
	for _, p := range classifyCached(t, old, shots[:2]) {
		if p.Stranger {
			t.Errorf("%s answered as a stranger by an old model", p.Path)
		}
	}
	ev, err := old.EvaluateRecorded(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Strangers != nil {
		t.Errorf("an old model's evaluation reports strangers: %+v", ev.Strangers)
	}
}
