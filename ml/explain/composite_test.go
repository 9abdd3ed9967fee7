package explain

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/train"
)

// BenchmarkCompositeLocalisation measures how well the heatmaps at each
// layer localise: a cat-or-dog model (the pet sample by species) explains
// composites of a test pet photo in one half of a wide canvas and a
// flower in the other. It reports the share of the heatmap's mass on the
// pet's half, how often the pet's half holds most of it, and, to judge
// the backbone rather than the heatmap, how often greying the pet's half
// lowers the answer more than greying the flower's. tools/explain-check
// prints the same with the other measurements.
//
//	go test -run - -bench CompositeLocalisation -benchtime 1x ./ml/explain/
func BenchmarkCompositeLocalisation(b *testing.B) {
	dir := b.TempDir()
	pets := mltest.Photos(b, "pets")
	breeds, _ := os.ReadDir(pets)
	for _, br := range breeds {
		kind := "dog"
		if name := br.Name(); strings.ToUpper(name[:1]) == name[:1] {
			kind = "cat"
		}
		os.MkdirAll(filepath.Join(dir, kind), 0o755)
		files, _ := filepath.Glob(filepath.Join(pets, br.Name(), "*.jpg"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, kind, filepath.Base(f)), data, 0o644)
		}
	}
	f, res := setupOn(b, dir, 0.3, train.DefaultOptions().Epochs)
	flowers, _ := filepath.Glob(filepath.Join(mltest.Photos(b, "flowers"), "*", "*.jpg"))
	var cs []Composite
	for i, smp := range res.Samples {
		if len(cs) >= 40 {
			break
		}
		pet, _, err := photo.DecodeFile(smp.Path, photo.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		flower, _, err := photo.DecodeFile(flowers[(7*i)%len(flowers)], photo.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		cs = append(cs, NewComposite(pet, flower, smp.Truth, true), NewComposite(pet, flower, smp.Truth, false))
	}
	for _, l := range Layers() {
		b.Run(l.Name, func(b *testing.B) {
			r, err := Localise(context.Background(), f.at[l.Name], cs)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.MassOnSubject, "mass-on-pet")
			b.ReportMetric(float64(r.MostOnSubject), "most-on-pet")
			b.ReportMetric(float64(r.GreySubjectHurts), "grey-pet-hurts-more")
			b.ReportMetric(float64(r.Composites), "composites")
		})
	}
	b.Logf("test accuracy of the cat/dog model: %.1f%% on %d photos", 100*res.Report.Accuracy, res.Report.N)
}
