package app

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/doctor"
)

// TestCheckLabels checks the sample flowers: training already
// fingerprinted every photo in its extraction's decode, so a check decodes
// none again; with the fingerprints gone, a cancelled check keeps those it
// made so far, and a full one goes through every stage in order and finds
// the sample's own near-duplicates; the offline backbone says it cannot
// judge strangers.
func TestCheckLabels(t *testing.T) {
	a, eng, _, _ := setup(t)
	flowers := mltest.Photos(t, "flowers")
	req := CheckLabelsRequest{Data: flowers, DataOptions: dataset.Options{Validation: 0.2}}

	kept, err := doctor.OpenPrints(a.Dirs.Fingerprints())
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.Scan(context.Background(), flowers, req.DataOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range d.Items {
		if _, ok := kept.Get(it.Hash); !ok {
			t.Errorf("training did not keep the fingerprint of %s", it.Path)
		}
	}
	var stages []CheckStage
	if _, err := a.CheckLabels(context.Background(), eng, req, func(p CheckProgress) {
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if want := []CheckStage{CheckScanning, CheckExtracting, CheckSuspects, CheckNearCopies, CheckStrangers}; !slices.Equal(stages, want) {
		t.Errorf("after training, a check went through %v, want %v (no photo decoded for its fingerprint)", stages, want)
	}

	if err := os.Remove(a.Dirs.Fingerprints()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = a.CheckLabels(ctx, eng, req, func(p CheckProgress) {
		if p.Stage == CheckFingerprints && p.Done >= 16 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled check: %v", err)
	}
	kept, err = doctor.OpenPrints(a.Dirs.Fingerprints())
	if err != nil {
		t.Fatal(err)
	}
	if kept.Len() < 16 || kept.Len() >= 150 {
		t.Errorf("a check cancelled after 16 fingerprints kept %d", kept.Len())
	}

	stages = nil
	var scanned *dataset.Dataset
	rep, err := a.CheckLabels(context.Background(), eng, req, func(p CheckProgress) {
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
		if p.Dataset != nil {
			scanned = p.Dataset
		}
		// The counted stages carry their time, so that a bar can say
		// the rate and the time left of each.
		counted := p.Stage == CheckScanning || p.Stage == CheckExtracting || p.Stage == CheckFingerprints
		if counted && p.Done > 0 && p.Elapsed <= 0 {
			t.Errorf("%s: %d of %d done in no time", p.Stage, p.Done, p.Total)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []CheckStage{CheckScanning, CheckExtracting, CheckFingerprints, CheckSuspects, CheckNearCopies, CheckStrangers}
	if !slices.Equal(stages, want) || scanned == nil {
		t.Errorf("stages %v (dataset sent: %v), want %v", stages, scanned != nil, want)
	}
	if len(rep.NearDuplicates) < 4 {
		t.Errorf("%d near-copies; the sample flowers hold 4 pairs", len(rep.NearDuplicates))
	}
	for _, c := range rep.NearDuplicates {
		if c.SHA256[0] == "" || c.SHA256[1] == "" || c.Splits[0] == "" {
			t.Errorf("pair %+v", c)
		}
	}
	// The offline backbone sets pages of text and screenshots apart from
	// flowers (doctor.TestStrangersJudged): strangers are judged, and the
	// sample flowers hold only the tail of their own kinds.
	if !rep.StrangersJudged || len(rep.Outliers) > 5 {
		t.Errorf("strangers judged %v (%q), %d listed among the sample flowers", rep.StrangersJudged, rep.StrangersReason, len(rep.Outliers))
	}
	t.Logf("%d suspects, %d pairs, warnings %q", len(rep.Mislabeled), len(rep.NearDuplicates), rep.Warnings)
}
