package app

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/train"
)

// trainTour trains on root as the tour does (3 epochs, 20% validation,
// 15% test) and returns the result with the scan the training sent (nil
// if none) and the options it used. The desktop app keeps the options of
// the scan a training sends (Scanned) as its own, and trains again with
// them.
func trainTour(t *testing.T, a *App, eng *Engine, root string) (_ *train.Result, scanned *dataset.Dataset, _ train.Options, _ dataset.Options) {
	t.Helper()
	o := train.DefaultOptions()
	o.Epochs = 3
	dopt := dataset.Options{Validation: 0.2, Test: 0.15}
	res, err := a.Train(context.Background(), eng, TrainRequest{Data: root, DataOptions: dopt, Options: o}, func(e Event) {
		if s, ok := e.(Scanned); ok {
			scanned = s.Dataset
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, scanned, o, dopt
}

// compareRetrain compares the retrained model of again with the model
// of first, as the app and train --continue do.
func compareRetrain(t *testing.T, eng *Engine, first, again *train.Result) *Comparison {
	t.Helper()
	c, err := NewClassifier(first.Model, eng)
	if err != nil {
		t.Fatal(err)
	}
	cmp, err := c.Compare(context.Background(), again)
	if err != nil {
		t.Fatal(err)
	}
	return cmp
}

// The screenshot tour's loop, through app as the desktop app goes through
// it: train, teach the 15 photos left out of the folder all at once (the
// app copies each in a job of its own, while the Data screen reads the
// folder again), retrain from the model. The retrained model is tested on
// exactly the first one's test photos, and the corrections are training
// photos. The tour's first model was tested on 17 photos, the retrained
// one on 21: the retraining applied the decisions read before the
// corrections (kept in the options of the scan the first training sent,
// which the app trains again with), so the copies fell into the splits
// their content gives; and corrections made at once overwrote each
// other's record.
func TestRetrainAfterManyCorrectionsKeepsTestPhotos(t *testing.T) {
	a, eng, _, _ := setup(t)
	root, others := mltest.TrainingFolder(t, "flowers", 3)
	ctx := context.Background()
	first, scanned, o, dopt := trainTour(t, a, eng, root)
	if scanned == nil {
		t.Fatal("the training sent no scan of the folder")
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	var copies []string
	for _, p := range others {
		wg.Add(2)
		go func() {
			defer wg.Done()
			c, err := a.AddCorrection(root, p, filepath.Base(filepath.Dir(p)))
			var held *CopyOfPhotoError
			switch {
			case errors.As(err, &held):
				// A near-copy of a photo that may be a test photo: refused,
				// as it should be (the sample flowers hold such pairs).
				t.Logf("refused: %v", err)
			case err != nil:
				t.Error(err)
			default:
				mu.Lock()
				copies = append(copies, c.To)
				mu.Unlock()
			}
		}()
		go func() {
			// The Data screen reads the folder again after each copy.
			defer wg.Done()
			if _, err := a.Scan(ctx, root, dopt); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(copies) < len(others)-4 {
		t.Fatalf("%d of %d corrections were copied in", len(copies), len(others))
	}

	again, err := a.Train(ctx, eng, TrainRequest{Data: root, DataOptions: scanned.Options, Options: o, Base: first.Model}, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, after := first.Model.Training.TestHashes(), again.Model.Training.TestHashes()
	if !slices.Equal(before, after) {
		t.Errorf("the test photos moved: %d before, %d after the retraining", len(before), len(after))
	}
	assertTraining(t, again.Data, copies) // the division it trained on
	cmp := compareRetrain(t, eng, first, again)
	if cmp.LeftOut != 0 || cmp.N != len(before) {
		t.Errorf("the comparison counts %d photos and leaves %d out; the models share %d test photos", cmp.N, cmp.LeftOut, len(before))
	}
}

// A near-copy found at a retraining never takes a photo out of the test
// split: here a new photo whose content makes it a test photo is a
// near-copy of a training photo, which joins it among the test photos.
// The comparison leaves both out and says which and why.
func TestRetrainNearCopyJoinsTestPhoto(t *testing.T) {
	a, eng, _, _ := setup(t)
	root, _ := mltest.TrainingFolder(t, "flowers", 3)
	ctx := context.Background()
	first, _, o, dopt := trainTour(t, a, eng, root)
	paired := map[[32]byte]bool{}
	for _, p := range first.Data.NearCopyPairs() {
		paired[p[0]], paired[p[1]] = true, true
	}
	var learnt string
	for _, it := range first.Data.Items {
		if it.Split == dataset.Train && !paired[it.Hash] {
			learnt = it.Path
			break
		}
	}
	// Its copy, recompressed until its content makes it a test photo.
	copyPath := filepath.Join(filepath.Dir(learnt), "copy-of-a-training-photo.jpg")
	found := false
	for q := 40; q <= 95 && !found; q++ {
		recompressAt(t, learnt, copyPath, q)
		d, err := a.Scan(ctx, root, dopt)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range d.Items {
			found = found || (it.Path == copyPath && it.Split == dataset.Test)
		}
	}
	if !found {
		t.Fatal("no recompressed copy of a training photo is a test photo by its content")
	}

	again, err := a.Train(ctx, eng, TrainRequest{Data: root, DataOptions: dopt, Options: o, Base: first.Model}, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, after := first.Model.Training.TestHashes(), again.Model.Training.TestHashes()
	for _, h := range before {
		if _, ok := slices.BinarySearch(after, h); !ok {
			t.Errorf("test photo %s of the first model is not one of the retrained model's", h[:12])
		}
	}
	if len(after) != len(before)+2 {
		t.Errorf("%d test photos after the retraining, %d before; want the copy and the photo it copies added", len(after), len(before))
	}
	cmp := compareRetrain(t, eng, first, again)
	why := map[string]string{}
	for _, p := range cmp.LeftOutPhotos {
		why[p.Path] = p.Why
	}
	if cmp.LeftOut != 2 || len(why) != 2 || cmp.N != len(before) {
		t.Fatalf("the comparison counts %d photos and leaves out %d: %+v", cmp.N, cmp.LeftOut, cmp.LeftOutPhotos)
	}
	if w := why[learnt]; !strings.Contains(w, "with its near-copy "+filepath.Join(filepath.Base(filepath.Dir(copyPath)), filepath.Base(copyPath))) {
		t.Errorf("the training photo that joined its copy: left out because %q", w)
	}
	if w := why[copyPath]; w != "new since the previous training" {
		t.Errorf("the new photo: left out because %q", w)
	}
}

// recompressAt saves the JPEG src again as dst at quality q: a near-copy
// with other content.
func recompressAt(t *testing.T, src, dst string, q int) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
