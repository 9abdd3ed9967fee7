package app

import (
	"context"
	"testing"

	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/ml/dataset"
)

// TestCheckPhotosProgress checks that the full-decode check reports the one
// progress type: counts up to the total, with the time taken, so that a
// bar can show the rate and the time left.
func TestCheckPhotosProgress(t *testing.T) {
	d, err := ScanFolder(context.Background(), twoKinds(t, 6), dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var last progress.Progress
	calls := 0
	if _, err := CheckPhotos(context.Background(), d, func(p progress.Progress) {
		calls++
		if p.Total != len(d.Items) || p.Done < last.Done || p.Elapsed < last.Elapsed {
			t.Errorf("progress %+v after %+v", p, last)
		}
		last = p
	}); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last.Done != last.Total || last.Elapsed <= 0 || last.Rate() <= 0 {
		t.Errorf("%d reports, the last %+v (rate %g): want it done, with its time and rate", calls, last, last.Rate())
	}
}
