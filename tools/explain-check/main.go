// Command explain-check measures Clasifica's Grad-CAM heatmaps at each
// layer they can be made at (mixed7, 17×17; mixed10, 8×8) on the same
// photos in one run, the three checks of issue 18 §3 and their cost:
//
//   - faithfulness (the deletion test): on every photo of the flower
//     sample, with a model trained on it, whether greying the map's most
//     important quarter of grid cells lowers the answer's probability more
//     than greying its least important quarter;
//
//   - sanity: the rank correlation between the maps of the trained head
//     and of a head with random weights (near 0 is good);
//
//   - localisation: with a cat/dog model (the pet sample by species), on
//     composites of a test pet photo in one half of a wide canvas and a
//     flower in the other, the share of the map's mass on the pet's half,
//     and how often greying the pet's half hurts the answer more than
//     greying the flower's (which judges the backbone, not the map);
//
//   - cost: seconds per explained photo (the forward pass and one
//     backward pass), on the engine's CPU provider.
//
//     go run ./tools/explain-check -photos testdata/photos
//
// The backbone and runtime are those of the tests ($CLASIFICA_TEST_BACKBONE,
// $ONNXRUNTIME_LIB); features are cached in -cache between runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/explain"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/train"
)

func main() {
	photos := flag.String("photos", "testdata/photos", "the sample photos (flowers/ and pets/)")
	bb := flag.String("backbone", os.Getenv("CLASIFICA_TEST_BACKBONE"), "backbone folder")
	lib := flag.String("runtime", os.Getenv("ONNXRUNTIME_LIB"), "ONNX Runtime library")
	threads := flag.Int("threads", 2, "CPU threads")
	cache := flag.String("cache", filepath.Join(os.TempDir(), "clasifica-explain-check"), "feature cache folder (kept between runs)")
	composites := flag.Int("composites", 40, "composites for the localisation (two per test pet photo)")
	sanityN := flag.Int("sanity", 10, "photos for the sanity check")
	seed := flag.Uint64("seed", 1, "training seed of both models (the splits are by content, the same for every seed)")
	flag.Parse()
	if err := run(*photos, *bb, *lib, *threads, *cache, *composites, *sanityN, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "explain-check:", err)
		os.Exit(1)
	}
}

// setup is a trained model with an explainer per layer.
type setup struct {
	res *train.Result
	all []string // every photo of the folder
	at  map[string]*explain.Explainer
}

func run(photos, bb, lib string, threads int, cacheDir string, nComposites, nSanity int, seed uint64) error {
	ctx := context.Background()
	b, err := backbone.Open(bb)
	if err != nil {
		return err
	}
	rt, err := onnxrt.Load(lib)
	if err != nil {
		return err
	}
	eng := onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: threads}}
	cache, err := features.OpenCache(cacheDir)
	if err != nil {
		return err
	}
	onnxModel, err := b.FeatureModel()
	if err != nil {
		return err
	}
	sess, err := eng.NewSession(onnxModel, inception.InputName, inception.OutputName)
	if err != nil {
		return err
	}
	defer sess.Close()
	trainOn := func(dir string, test float64, epochs int) (*setup, error) {
		d, err := dataset.Scan(ctx, dir, dataset.Options{Validation: 0.2, Test: test})
		if err != nil {
			return nil, err
		}
		o := train.DefaultOptions()
		o.Seed = seed
		if epochs > 0 {
			o.Epochs = epochs
		}
		res, err := train.Run(ctx, train.Job{Data: d, Options: o,
			Extractor: &features.Extractor{Session: sess, Backbone: b.SHA256, Cache: cache},
			Backbone:  model.Backbone{ID: b.ID, Name: b.Name, SHA256: b.SHA256, Preprocess: b.Preprocess, ImageSize: inception.Size},
			Engine:    eng}, nil)
		if err != nil {
			return nil, err
		}
		s := &setup{res: res, at: map[string]*explain.Explainer{}}
		for _, it := range d.Items {
			s.all = append(s.all, it.Path)
		}
		for _, l := range explain.Layers() {
			ex, err := explain.NewWith(eng, b.Weights, b.Preprocess, res.Model.Head, explain.Options{Layer: l})
			if err != nil {
				return nil, err
			}
			s.at[l.Name] = ex
		}
		return s, nil
	}
	load := func(paths []string) ([]*photo.RGB, error) {
		out := make([]*photo.RGB, len(paths))
		for i, p := range paths {
			var err error
			if out[i], err = photo.LoadFile(p, inception.Size, photo.Limits{}); err != nil {
				return nil, err
			}
		}
		return out, nil
	}

	fmt.Printf("backbone %s, %d CPU threads, training seed %d\n", b.Name, threads, seed)
	flowers, err := trainOn(filepath.Join(photos, "flowers"), 0.2, 15)
	if err != nil {
		return err
	}
	fmt.Printf("flowers model: test accuracy %.1f%% on %d photos\n", 100*flowers.res.Report.Accuracy, flowers.res.Report.N)
	all, err := load(flowers.all)
	if err != nil {
		return err
	}
	var samples []string
	for _, s := range flowers.res.Samples {
		samples = append(samples, s.Path)
	}
	sanityPhotos, err := load(samples[:min(nSanity, len(samples))])
	if err != nil {
		return err
	}

	species, err := bySpecies(filepath.Join(photos, "pets"))
	if err != nil {
		return err
	}
	defer os.RemoveAll(species)
	pets, err := trainOn(species, 0.3, 0)
	if err != nil {
		return err
	}
	fmt.Printf("cat/dog model: test accuracy %.1f%% on %d photos\n", 100*pets.res.Report.Accuracy, pets.res.Report.N)
	flowerPaths, _ := filepath.Glob(filepath.Join(photos, "flowers", "*", "*.jpg"))
	var cs []explain.Composite
	for i, smp := range pets.res.Samples {
		if len(cs) >= nComposites {
			break
		}
		pet, _, err := photo.DecodeFile(smp.Path, photo.Limits{})
		if err != nil {
			return err
		}
		flower, _, err := photo.DecodeFile(flowerPaths[(7*i)%len(flowerPaths)], photo.Limits{})
		if err != nil {
			return err
		}
		cs = append(cs, explain.NewComposite(pet, flower, smp.Truth, true), explain.NewComposite(pet, flower, smp.Truth, false))
	}

	for _, l := range explain.Layers() {
		ex := flowers.at[l.Name]
		start := time.Now()
		f, err := explain.DeletionTest(ctx, ex, all)
		if err != nil {
			return err
		}
		// The deletion test explains each photo three times.
		cost := time.Since(start).Seconds() / float64(3*f.Photos)
		random, err := explain.NewWith(eng, b.Weights, b.Preprocess, explain.RandomHead(flowers.res.Model.Head, 7), explain.Options{Layer: l})
		if err != nil {
			return err
		}
		corr, err := explain.Sanity(ctx, ex, random, sanityPhotos)
		random.Close()
		if err != nil {
			return err
		}
		loc, err := explain.Localise(ctx, pets.at[l.Name], cs)
		if err != nil {
			return err
		}
		fmt.Printf("\n%s (%d×%d):\n", l.Name, l.Side, l.Side)
		fmt.Printf("  faithfulness: top quarter greyed hurt more for %d of %d flower photos (%.0f%%); mean drop %.3f against %.3f\n",
			f.Wins, f.Photos, 100*float64(f.Wins)/float64(f.Photos), f.DropTop, f.DropBottom)
		fmt.Printf("  sanity: rank correlation with a random head's maps %.2f (%d photos)\n", corr, len(sanityPhotos))
		fmt.Printf("  localisation: %.0f%% of the map's mass on the pet's half; most of it there in %d of %d composites; greying the pet's half hurt more in %d\n",
			100*loc.MassOnSubject, loc.MostOnSubject, loc.Composites, loc.GreySubjectHurts)
		fmt.Printf("  cost: %.3f s per explained photo\n", cost)
	}
	for _, s := range []*setup{flowers, pets} {
		for _, ex := range s.at {
			ex.Close()
		}
	}
	return nil
}

// bySpecies copies the pet sample into a temporary folder of cat/ and dog/
// (capitalised breeds are cats) and returns it.
func bySpecies(pets string) (string, error) {
	dir, err := os.MkdirTemp("", "explain-check-pets")
	if err != nil {
		return "", err
	}
	breeds, err := os.ReadDir(pets)
	if err != nil {
		return "", err
	}
	for _, br := range breeds {
		if !br.IsDir() {
			continue
		}
		kind := "dog"
		if name := br.Name(); strings.ToUpper(name[:1]) == name[:1] {
			kind = "cat"
		}
		if err := os.MkdirAll(filepath.Join(dir, kind), 0o755); err != nil {
			return "", err
		}
		files, _ := filepath.Glob(filepath.Join(pets, br.Name(), "*.jpg"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return "", err
			}
			if err := os.WriteFile(filepath.Join(dir, kind, filepath.Base(f)), data, 0o644); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}
