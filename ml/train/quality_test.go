package train

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/head"
)

// species returns the pet sample grouped by species: a folder of links,
// cat/ (the capitalised breeds) and dog/.
func species(t *testing.T, val, test float64) *dataset.Dataset {
	t.Helper()
	src := mltest.Photos(t, "pets")
	dir := t.TempDir()
	if err := mltest.LinkBySpecies(src, dir); err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Scan(context.Background(), dir, dataset.Options{Validation: val, Test: test})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Classes) != 2 || len(d.Items) != 148 {
		t.Fatalf("species sample: classes %v, %d photos, want cat and dog, 148", d.Classes, len(d.Items))
	}
	return d
}

// kerasRecipe trains the plain Keras transfer-learning recipe the head
// follows, as a reference: Dense(1024, relu), Dropout(0.5), Adam(1e-3),
// batches of 32, on the raw features, without class weights, keeping the
// last of a fixed number of epochs. It returns the test accuracy.
func kerasRecipe(t *testing.T, f fixture, d *dataset.Dataset, seed uint64, epochs int) float64 {
	t.Helper()
	items := make([]features.Item, len(d.Items))
	for i, it := range d.Items {
		items[i] = features.Item{Path: it.Path, Hash: it.Hash}
	}
	res, err := f.ext.Extract(context.Background(), items, nil)
	if err != nil {
		t.Fatal(err)
	}
	var x, tx []float32
	var y, ty []int
	for i, it := range d.Items {
		switch it.Split {
		case dataset.Train:
			x, y = append(x, res.Row(i)...), append(y, it.Label)
		case dataset.Test:
			tx, ty = append(tx, res.Row(i)...), append(ty, it.Label)
		}
	}
	cfg := head.DefaultConfig()
	cfg.Seed = seed
	h, err := head.New(features.Dim, len(d.Classes), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := head.NewTrainer(h, cfg, f.eng)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for range epochs {
		if _, err := tr.Epoch(context.Background(), x, y, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, acc, err := h.Evaluate(tx, ty, nil)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// TestHeadAccuracy guards the head's quality on the sample photos over
// five seeds, against the regression of issue 16: features standardised to
// unit variance made the head overshoot in its first epoch (its training
// loss after it was above that of a uniform guess, ln(classes)), and early
// stopping then kept an early, less accurate epoch, below the plain Keras
// recipe. The head with the app's defaults must start sanely and be at
// least as accurate as that recipe trained for the same most epochs
// (without early stopping, as the Keras tutorial trains).
func TestHeadAccuracy(t *testing.T) {
	f := setup(t)
	const seeds = 5
	for _, set := range []struct {
		name string
		data *dataset.Dataset
		// accuracy says whether accuracies compare: the offline
		// backbone (NSFW-tuned) does not tell the flowers apart (about
		// 22% for 5 kinds, see the README), so there only the first
		// epoch is checked.
		accuracy bool
	}{
		{"pets by species", species(t, 0.2, 0.2), true},
		{"flowers", flowers(t, 0.2, 0.2), false},
	} {
		t.Run(strings.ReplaceAll(set.name, " ", "_"), func(t *testing.T) {
			o := DefaultOptions()
			guess := math.Log(float64(len(set.data.Classes)))
			var ours, ref float64
			for seed := uint64(1); seed <= seeds; seed++ {
				o.Seed = seed
				res, err := Run(context.Background(), Job{Data: set.data, Extractor: f.ext, Backbone: f.ref, Engine: f.eng, Weights: f.w, Options: o}, nil)
				if err != nil {
					t.Fatal(err)
				}
				tr := res.Model.Training
				first := tr.Epochs[0].Loss
				if first > guess {
					t.Errorf("seed %d: training loss after the first epoch %.3f, above a uniform guess's %.3f: the first epoch overshoots", seed, first, guess)
				}
				k := kerasRecipe(t, f, set.data, seed, o.Epochs)
				t.Logf("seed %d: first epoch's loss %.3f (guess %.3f), kept epoch %d of %d, test accuracy %.3f; Keras recipe for %d epochs %.3f",
					seed, first, guess, tr.BestEpoch, len(tr.Epochs), res.Report.Accuracy, o.Epochs, k)
				ours += res.Report.Accuracy / seeds
				ref += k / seeds
			}
			t.Logf("mean test accuracy over %d seeds: %.3f, Keras recipe %.3f", seeds, ours, ref)
			// One test photo in 25-31 is 3-4 points: the head may lose
			// no more than one photo on average.
			if set.accuracy && ours < ref-0.03 {
				t.Errorf("mean test accuracy %.3f, below the Keras recipe's %.3f", ours, ref)
			}
		})
	}
}
