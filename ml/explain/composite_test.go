package explain

import (
	"context"
	"image"
	"image/draw"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/train"
)

// BenchmarkCompositeLocalisation measures how well the heatmaps localise:
// a cat-or-dog model (the pet sample by species) explains composites of a
// test pet photo in one half of a wide canvas and a flower in the other.
// It reports the share of the heatmap's mass on the pet's half, how often
// the pet's half holds most of it, and, to judge the backbone rather than
// the heatmap, how often greying the pet's half lowers the answer more
// than greying the flower's.
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
	ex := f.ex
	flowers, _ := filepath.Glob(filepath.Join(mltest.Photos(b, "flowers"), "*", "*.jpg"))
	decode := func(path string) image.Image {
		m, _, err := photo.DecodeFile(path, photo.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		return photo.Resize(m, inception.Size, inception.Size)
	}
	ctx := context.Background()
	var mass float64
	n, most, greyWins := 0, 0, 0
	b.ResetTimer()
	for i, smp := range res.Samples {
		if n >= 40 {
			break
		}
		pet, flower := decode(smp.Path), decode(flowers[(7*i)%len(flowers)])
		for _, left := range []bool{true, false} {
			canvas := image.NewRGBA(image.Rect(0, 0, 2*inception.Size, inception.Size))
			pr, fr := canvas.Bounds(), canvas.Bounds()
			if left {
				pr.Max.X, fr.Min.X = inception.Size, inception.Size
			} else {
				pr.Min.X, fr.Max.X = inception.Size, inception.Size
			}
			draw.Draw(canvas, pr, pet, image.Point{}, draw.Src)
			draw.Draw(canvas, fr, flower, image.Point{}, draw.Src)
			p := photo.Resize(canvas, inception.Size, inception.Size)
			m, err := ex.Explain(ctx, p, smp.Truth)
			if err != nil {
				b.Fatal(err)
			}
			var petMass, all float64
			var petCells, otherCells []int
			for c, v := range m.Values {
				onPet := (c%m.Cols < m.Cols/2) == left
				if onPet {
					petMass += v
					petCells = append(petCells, c)
				} else {
					otherCells = append(otherCells, c)
				}
				all += v
			}
			if all > 0 {
				mass += petMass / all
				if petMass > all/2 {
					most++
				}
			}
			gp, err := ex.Explain(ctx, Grey(p, m.Rows, m.Cols, petCells), smp.Truth)
			if err != nil {
				b.Fatal(err)
			}
			gf, err := ex.Explain(ctx, Grey(p, m.Rows, m.Cols, otherCells), smp.Truth)
			if err != nil {
				b.Fatal(err)
			}
			if gp.Probs[smp.Truth] < gf.Probs[smp.Truth] {
				greyWins++
			}
			n++
		}
	}
	b.ReportMetric(mass/float64(n), "mass-on-pet")
	b.ReportMetric(float64(most), "most-on-pet")
	b.ReportMetric(float64(greyWins), "grey-pet-hurts-more")
	b.ReportMetric(float64(n), "composites")
	b.Logf("test accuracy of the cat/dog model: %.1f%% on %d photos", 100*res.Report.Accuracy, res.Report.N)
}
