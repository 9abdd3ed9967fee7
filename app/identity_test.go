package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
)

// TestOldImportOfTestWeights installs the nsfwjs weights as an earlier
// Clasifica did from a plain TensorFlow.js folder: under the folder's name,
// with Keras's [-1, 1] preprocessing instead of their own [0, 1]. The store
// recognises them by their weights and installs them again as the test
// model; a model trained on the old entry still finds them, with the
// preprocessing it recorded and a note saying that results differ from a
// model trained now.
func TestOldImportOfTestWeights(t *testing.T) {
	src := mltest.Backbone(t)
	store := &Backbones{Dir: t.TempDir()}
	old := filepath.Join(store.Dir, "my-inception")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyWeights(context.Background(), src, old); err != nil {
		t.Fatal(err)
	}
	b, err := backbone.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	oldSHA := backbone.Identity(b.Weights, inception.KerasImageNet)
	info := backbone.Info{ID: "my-inception", Name: "my-inception", Source: src, Preprocess: inception.KerasImageNet, SHA256: oldSHA}
	data, _ := json.Marshal(info)
	if err := os.WriteFile(filepath.Join(old, backbone.InfoFile), data, 0o644); err != nil {
		t.Fatal(err)
	}

	all, err := store.List()
	if err != nil || len(all) != 1 {
		t.Fatalf("List = %+v, %v", all, err)
	}
	in := all[0]
	if in.ID != OfflineBackboneID || !in.Offline() || in.Preprocess != inception.UnitRange || in.WeightsSHA256 != backbone.NsfwjsWeights || in.SHA256 != b.SHA256 {
		t.Fatalf("the old import is listed as %+v", in.Info)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the old entry is still there: %v", err)
	}

	ref := model.Backbone{ID: "my-inception", Name: "my-inception", SHA256: oldSHA, Preprocess: inception.KerasImageNet, ImageSize: inception.Size}
	if !OnTestModel(ref) || !strings.Contains(PreprocessNote(ref), "[-1, 1]") {
		t.Errorf("the old model is not seen as trained on the test weights with other preprocessing: %v, %q", OnTestModel(ref), PreprocessNote(ref))
	}
	if cur := (model.Backbone{ID: "x", SHA256: b.SHA256, Preprocess: inception.UnitRange}); !OnTestModel(cur) || PreprocessNote(cur) != "" {
		t.Errorf("a model on the current test model: %v, %q", OnTestModel(cur), PreprocessNote(cur))
	}
	found, err := store.Find(ref)
	if err != nil {
		t.Fatalf("a model trained on the old import: %v", err)
	}
	if found.SHA256 != oldSHA || found.Preprocess != inception.KerasImageNet || !strings.Contains(found.Note, "[-1, 1]") || !strings.Contains(found.Note, "[0, 1]") {
		t.Fatalf("found %+v, note %q", found.Info, found.Note)
	}
	got, err := store.FeatureModel(context.Background(), found)
	if err != nil {
		t.Fatal(err)
	}
	b.Info = found.Info
	want, err := b.FeatureModel()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the feature model of the old import is not the weights with its recorded preprocessing")
	}
	// The backbone's own feature model is untouched by it.
	own, err := store.FeatureModel(context.Background(), in)
	if err != nil || bytes.Equal(own, got) {
		t.Errorf("the test model's own feature model: same as the old import's %v, %v", bytes.Equal(own, got), err)
	}
	// A model trained on the current entry finds it without a note.
	if f, err := store.Find(model.Backbone{SHA256: in.SHA256}); err != nil || f.Note != "" || f.Preprocess != inception.UnitRange {
		t.Errorf("current entry: %+v %q, %v", f.Info, f.Note, err)
	}
}
