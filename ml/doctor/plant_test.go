package doctor

import (
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"golang.org/x/image/draw"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
)

// cacheDir is the feature cache the package's tests share, so that each
// photo goes through the backbone once per test run (CLASIFICA_DOCTOR_CACHE
// keeps one across runs while measuring).
var cacheDir string

func TestMain(m *testing.M) {
	dir := os.Getenv("CLASIFICA_DOCTOR_CACHE")
	temp := dir == ""
	if temp {
		var err error
		if dir, err = os.MkdirTemp("", "clasifica-doctor-test-"); err != nil {
			panic(err)
		}
	}
	cacheDir = dir
	code := m.Run()
	if temp {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// plan describes a folder with planted problems, built from the sample
// photos.
type plan struct {
	// source: "species" (the pets as cat and dog), "breeds" (the pets'
	// 37 breeds), "flowers" (5 kinds) or "mixed" (pet and flower: two
	// classes the offline test model tells apart).
	source string
	// wrong is the share of photos moved to another class's folder.
	wrong float64
	// copies is the number of near-copies planted: a photo cropped by 5%,
	// resized to 70% and saved at JPEG quality 60, beside its original.
	copies int
	// strangers is the number of photos of the other sample set (flowers
	// among pets, pets among flowers) put in class folders.
	strangers int
	seed      uint64
}

// planted is a folder built from a plan, with what was planted.
type planted struct {
	dir       string
	wrong     map[string]string // path → the class it really is
	copies    map[[2]string]bool
	strangers map[string]bool
}

// sourcePhotos lists the sample photos of a source with their classes.
func sourcePhotos(t *testing.T, source string) (paths, classes []string) {
	t.Helper()
	if source == "mixed" {
		for _, set := range []string{"species", "flowers"} {
			p, _ := sourcePhotos(t, set)
			paths = append(paths, p...)
			for range p {
				classes = append(classes, map[string]string{"species": "pet", "flowers": "flower"}[set])
			}
		}
		return paths, classes
	}
	set := "pets"
	if source == "flowers" {
		set = "flowers"
	}
	root := mltest.Photos(t, set)
	kinds, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		files, err := filepath.Glob(filepath.Join(root, k.Name(), "*.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(files)
		class := k.Name()
		if source == "species" {
			// Capitalised breeds are cats, as the Oxford-IIIT Pet
			// dataset names them.
			class = "dog"
			if unicode.IsUpper([]rune(k.Name())[0]) {
				class = "cat"
			}
		}
		for _, f := range files {
			paths = append(paths, f)
			classes = append(classes, class)
		}
	}
	return paths, classes
}

// plant builds p's folder under a temporary folder.
func plant(t *testing.T, p plan) planted {
	t.Helper()
	rng := rand.New(rand.NewPCG(p.seed, 17))
	paths, classes := sourcePhotos(t, p.source)
	kinds := slices.Compact(slices.Sorted(slices.Values(classes)))
	out := planted{dir: t.TempDir(), wrong: map[string]string{}, copies: map[[2]string]bool{}, strangers: map[string]bool{}}
	perm := rng.Perm(len(paths))
	nWrong := int(p.wrong*float64(len(paths)) + 0.5)
	for k, i := range perm {
		class := classes[i]
		if k < nWrong {
			for class == classes[i] {
				class = kinds[rng.IntN(len(kinds))]
			}
		}
		dst := filepath.Join(out.dir, class, filepath.Base(paths[i]))
		copyFile(t, paths[i], dst)
		if class != classes[i] {
			out.wrong[dst] = classes[i]
		}
		// Copies are made of photos whose label is right, so that each
		// list's measure counts only its own problem.
		if k >= nWrong && k < nWrong+p.copies {
			cp := filepath.Join(out.dir, class, "copy-"+strings.TrimSuffix(filepath.Base(paths[i]), ".jpg")+".jpg")
			nearCopy(t, paths[i], cp)
			out.copies[pairKey(dst, cp)] = true
		}
	}
	if p.strangers > 0 {
		other := "flowers"
		if p.source == "flowers" {
			other = "species"
		}
		opaths, _ := sourcePhotos(t, other)
		for _, i := range rng.Perm(len(opaths))[:p.strangers] {
			dst := filepath.Join(out.dir, kinds[rng.IntN(len(kinds))], "stranger-"+filepath.Base(opaths[i]))
			copyFile(t, opaths[i], dst)
			out.strangers[dst] = true
		}
	}
	return out
}

func pairKey(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// nearCopy writes src cropped by 5% (2.5% off each side), resized to 70%
// and saved at JPEG quality 60: the copies a folder gathers from chat
// apps, screenshots of photos and "save as".
func nearCopy(t *testing.T, src, dst string) {
	t.Helper()
	img, _, err := photo.DecodeFile(src, photo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	mx, my := b.Dx()*25/1000, b.Dy()*25/1000
	crop := image.Rect(b.Min.X+mx, b.Min.Y+my, b.Max.X-mx, b.Max.Y-my)
	small := image.NewRGBA(image.Rect(0, 0, crop.Dx()*7/10, crop.Dy()*7/10))
	draw.CatmullRom.Scale(small, small.Bounds(), img, crop, draw.Src, nil)
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, small, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// engine is the offline test backbone on the CPU, opened once.
var engine = sync.OnceValues(func() (*features.Extractor, error) {
	b, err := backbone.Open(os.Getenv("CLASIFICA_TEST_BACKBONE"))
	if err != nil {
		return nil, err
	}
	onnx, err := b.FeatureModel()
	if err != nil {
		return nil, err
	}
	rt, err := onnxrt.Load(os.Getenv("ONNXRUNTIME_LIB"))
	if err != nil {
		return nil, err
	}
	s, err := rt.NewSession(onnx, inception.InputName, inception.OutputName, onnxrt.Options{Provider: onnxrt.CPU})
	if err != nil {
		return nil, err
	}
	cache, err := features.OpenCache(cacheDir)
	if err != nil {
		return nil, err
	}
	return &features.Extractor{Session: s, Backbone: b.SHA256, Cache: cache}, nil
})

// scan reads a planted folder (no validation or test photos unless
// asked) and extracts its features and, withPrints, its fingerprints.
func scan(t *testing.T, dir string, opt dataset.Options, withPrints bool) (*dataset.Dataset, Input) {
	t.Helper()
	mltest.Backbone(t) // fails with a clear message when it is missing
	mltest.RuntimeLibrary(t)
	d, err := dataset.Scan(context.Background(), dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	x, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	feats := extractAll(t, x, d)
	var prints []Print
	if withPrints {
		prints = make([]Print, len(d.Items))
	}
	for i, it := range d.Items[:len(prints)] {
		p, err := photo.LoadFile(it.Path, inception.Size, photo.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		prints[i] = Fingerprint(p)
	}
	in, err := FromDataset(d, feats, features.Dim, prints)
	if err != nil {
		t.Fatal(err)
	}
	return d, in
}

// precisionRecall measures a list of flagged keys against the planted set.
func precisionRecall[K comparable](flagged []K, truth map[K]bool) (precision, recall float64, hits int) {
	for _, k := range flagged {
		if truth[k] {
			hits++
		}
	}
	if len(flagged) > 0 {
		precision = float64(hits) / float64(len(flagged))
	}
	if len(truth) > 0 {
		recall = float64(hits) / float64(len(truth))
	}
	return precision, recall, hits
}

func (p planted) String() string {
	return fmt.Sprintf("%s: %d wrong labels, %d copies, %d strangers", p.dir, len(p.wrong), len(p.copies), len(p.strangers))
}

// extractAll returns the features x gives d's photos, failing the test on
// any photo that cannot be read.
func extractAll(t *testing.T, x *features.Extractor, d *dataset.Dataset) []float32 {
	t.Helper()
	items := make([]features.Item, len(d.Items))
	for i, it := range d.Items {
		items[i] = features.Item{Path: it.Path, Hash: it.Hash}
	}
	res, err := x.Extract(context.Background(), items, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range res.Errs {
		if e != nil {
			t.Fatalf("%s: %v", items[i].Path, e)
		}
	}
	return res.Features
}
