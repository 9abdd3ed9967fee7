package app

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/train"
)

// recompress writes the JPEG src again at quality 60 to dst: the same
// shot, another file (a near-copy).
func recompress(t *testing.T, src, dst string) {
	t.Helper()
	recompressAt(t, src, dst, 60)
}

// Where Clasifica makes the split, training finds the near-copy pairs in
// its own extraction (the sample flowers hold 4 pairs of the same shot),
// records them, and trains with both photos of each pair in one split:
// the model's test photos are the test photos of a scan that applies the
// recorded pairs, as inspect and the Data screen show them.
func TestTrainingKeepsNearCopiesTogether(t *testing.T) {
	a, _, res, _ := setup(t)
	flowers := mltest.Photos(t, "flowers")
	s, err := a.LoadDecisions(flowers)
	if err != nil {
		t.Fatal(err)
	}
	pairs := s.NearCopies()
	if len(pairs) < 4 {
		t.Fatalf("training recorded %d near-copy pairs; the sample flowers hold 4", len(pairs))
	}
	d, err := a.Scan(context.Background(), flowers, dataset.Options{Validation: 0.2, Test: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	split := map[[32]byte]dataset.Split{}
	for _, it := range d.Items {
		split[it.Hash] = it.Split
	}
	for _, p := range pairs {
		a, okA := split[p[0]]
		b, okB := split[p[1]]
		if !okA || !okB || a != b {
			t.Errorf("pair %x/%x in splits %v/%v (found %v/%v)", p[0][:4], p[1][:4], a, b, okA, okB)
		}
	}
	test := map[string]bool{}
	for _, it := range d.Items {
		if it.Split == dataset.Test {
			test[hex.EncodeToString(it.Hash[:])] = true
		}
	}
	if len(res.Model.Training.Test) != len(test) {
		t.Errorf("the model has %d test photos, the scan %d", len(res.Model.Training.Test), len(test))
	}
	for _, s := range res.Model.Training.Test {
		if !test[s.SHA256] {
			t.Errorf("test photo %s of the model is not a test photo of the scan", s.SHA256[:12])
		}
	}
}

// Where the folder gives the split (train/ and test/), no photo crosses
// it: the training copy of a test photo is left out, and training says so.
func TestTrainLeavesOutTrainingCopy(t *testing.T) {
	a, eng, _, _ := setup(t)
	root := t.TempDir()
	var held string
	for _, kind := range []string{"daisy", "tulip"} {
		paths, _ := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers"), kind, "*.jpg"))
		for i, p := range paths[:8] {
			split := "train"
			if i >= 6 {
				split = "test"
			}
			dir := filepath.Join(root, split, kind)
			os.MkdirAll(dir, 0o755)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, filepath.Base(p))
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if kind == "daisy" && i == 6 {
				held = dst
			}
		}
	}
	copyPath := filepath.Join(root, "train", "daisy", "copy-of-a-test-photo.jpg")
	recompress(t, held, copyPath)

	o := train.DefaultOptions()
	o.Epochs = 3
	var warned []train.Warning
	res, err := a.Train(context.Background(), eng, TrainRequest{Data: root, DataOptions: dataset.Options{Validation: 0.2}, Options: o},
		func(e Event) {
			if w, ok := e.(train.Warning); ok {
				warned = append(warned, w)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range warned {
		if w.Path == "" && strings.Contains(w.Message, "1 training photo was left out") && strings.Contains(w.Message, copyPath+" (a near-copy of "+held+", a test photo)") {
			found = true
		}
	}
	if !found {
		t.Errorf("no note names the training copy left out; warnings: %+v", warned)
	}
	if got := res.Model.Training.TrainCount + res.Model.Training.ValCount; got != 12 {
		t.Errorf("trained on %d training and validation photos, want the 12 without the copy", got)
	}
	if len(res.Model.Training.Test) != 4 {
		t.Errorf("%d test photos, want the folder's 4", len(res.Model.Training.Test))
	}
	// Features cached before fingerprints were kept (an older version):
	// the photos are read once more for their prints, said as reading
	// photos, and the copy is still found.
	if err := os.Remove(a.Dirs.Fingerprints()); err != nil {
		t.Fatal(err)
	}
	warned = nil
	var extracted bool
	var decoded int
	res, err = a.Train(context.Background(), eng, TrainRequest{Data: root, DataOptions: dataset.Options{Validation: 0.2}, Options: o},
		func(e Event) {
			switch e := e.(type) {
			case train.Warning:
				warned = append(warned, e)
			case train.Extraction:
				extracted = true
				if e.Progress.FromCache != e.Progress.Done {
					t.Errorf("the second run extracted %d photos again", e.Progress.Done-e.Progress.FromCache)
				}
			case Scanning:
				if extracted {
					decoded = e.Total
				}
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if decoded != 17 || res.Model.Training.TrainCount+res.Model.Training.ValCount != 12 {
		t.Errorf("with no fingerprints kept: %d photos read for them (want the 17), %d trained on (want 12)", decoded, res.Model.Training.TrainCount+res.Model.Training.ValCount)
	}

	// A label check, which does not see the copy a scan left out, keeps
	// the pair recorded.
	if _, err := a.RecordNearCopies(root, nil); err != nil {
		t.Fatal(err)
	}
	// Recorded: the next scan (inspect, the Data screen) leaves it out too.
	d, err := a.Scan(context.Background(), root, dataset.Options{Validation: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if n := dataset.Count(d.Decided).NearCopies; n != 1 {
		t.Errorf("a scan after training leaves out %d near-copies, want 1", n)
	}
}
