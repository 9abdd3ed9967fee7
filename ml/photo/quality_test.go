package photo_test

import (
	"context"
	"fmt"
	"image/jpeg"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/largephoto"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/tfjs"
	"google.golang.org/protobuf/proto"
)

// TestScaledDecodeQuality is the quality guard of the scaled JPEG decode:
// what the network sees from libjpeg-turbo's reduced-scale decode (in a
// build without it, from the eighth-scale decoder's at 1/8) must be what
// it sees from Go's full-size decode, on the sample photos and on
// 12-megapixel versions of some of them (where the scale is 1/8). Labels
// come from a nearest-class-centroid classifier on the backbone's features
// of Go's decode, one per sample set as a user trains one model per folder,
// with the classes a user would sort these photos into: cat or dog, and the
// five flowers (37 breeds of 4 photos each would make a classifier of
// near-ties that no decoder change could be judged by). They must agree on
// at least 99% of photos (both parts together: 3 of the 298 sample photos
// change, all near-ties), and the features' mean-centred cosine (centred on
// the mean feature, since InceptionV3's features are all positive and
// their raw cosines are all high) must average at least 0.99.
//
// CLASIFICA_QUALITY_LARGE sets how many 12-megapixel photos to make (12 by
// default; each takes seconds to make and decode with Go's decoder).
func TestScaledDecodeQuality(t *testing.T) {
	nLarge := 12
	if v := os.Getenv("CLASIFICA_QUALITY_LARGE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("CLASIFICA_QUALITY_LARGE=%q: %v", v, err)
		}
		nLarge = n
	}
	s := session(t)
	var paths, labels []string
	sets := map[string]string{} // class → sample set
	for _, set := range []string{"pets", "flowers"} {
		root := mltest.Photos(t, set)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".jpg") {
				paths = append(paths, p)
				labels = append(labels, kind(set, filepath.Base(filepath.Dir(p))))
				sets[labels[len(labels)-1]] = set
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// 12-megapixel versions, evenly spread over both sets.
	dir := t.TempDir()
	n := len(paths)
	for i := range min(nLarge, n) {
		j := i * n / min(nLarge, n)
		out := filepath.Join(dir, fmt.Sprintf("%03d.jpg", i))
		enlarge(t, paths[j], out, uint64(i))
		paths = append(paths, out)
		labels = append(labels, labels[j])
	}

	goF := featuresOf(t, s, paths, photo.JPEGGo)
	scF := featuresOf(t, s, paths, photo.JPEGAuto)

	// Class centroids of Go's features of the sample photos (not the
	// enlargements), centred on their mean and normalised.
	dim := len(goF[0])
	mean := make([]float64, dim)
	for _, f := range goF[:n] {
		for k, v := range f {
			mean[k] += float64(v) / float64(n)
		}
	}
	centred := func(f []float32) []float64 {
		c := make([]float64, dim)
		for k, v := range f {
			c[k] = float64(v) - mean[k]
		}
		return c
	}
	centroids := map[string][]float64{}
	for i, f := range goF[:n] {
		c := centroids[labels[i]]
		if c == nil {
			c = make([]float64, dim)
			centroids[labels[i]] = c
		}
		for k, v := range centred(f) {
			c[k] += v
		}
	}
	classes := make([]string, 0, len(centroids))
	for l, c := range centroids {
		normalise(c)
		classes = append(classes, l)
	}
	slices.Sort(classes)
	// A user trains one model per folder: a photo is classified among
	// the classes of its own set. margin is how much closer the photo is
	// to its class than to the next (a near-tie when small).
	predict := func(f []float32, set string) (label string, margin float64) {
		c := centred(f)
		norm := math.Sqrt(dot(c, c))
		best, second := math.Inf(-1), math.Inf(-1)
		for _, l := range classes {
			if sets[l] != set {
				continue
			}
			switch d := dot(c, centroids[l]) / norm; {
			case d > best:
				label, best, second = l, d, best
			case d > second:
				second = d
			}
		}
		return label, best - second
	}

	agreeAll := 0
	for _, part := range []struct {
		name   string
		lo, hi int
	}{{"sample photos", 0, n}, {"12-megapixel photos", n, len(paths)}} {
		same, sumCos, minCos, minAt := 0, 0.0, 2.0, ""
		for i := part.lo; i < part.hi; i++ {
			set := sets[labels[i]]
			a, margin := predict(goF[i], set)
			if b, _ := predict(scF[i], set); a == b {
				same++
			} else {
				t.Logf("%s: %s with Go's decoder (cosine margin %.4f over the next class), %s scaled",
					filepath.Base(paths[i]), a, margin, b)
			}
			a2, b2 := centred(goF[i]), centred(scF[i])
			c := dot(a2, b2) / math.Sqrt(dot(a2, a2)*dot(b2, b2))
			sumCos += c
			if c < minCos {
				minCos, minAt = c, paths[i]
			}
		}
		count := part.hi - part.lo
		if count == 0 {
			continue
		}
		agreeAll += same
		meanCos := sumCos / float64(count)
		t.Logf("%s: %d of %d labels agree (%.2f%%); mean-centred cosine mean %.4f, lowest %.4f (%s)",
			part.name, same, count, 100*float64(same)/float64(count), meanCos, minCos, filepath.Base(minAt))
		if meanCos < 0.99 {
			t.Errorf("%s: mean-centred cosine %.4f, want >= 0.99", part.name, meanCos)
		}
	}
	// The labels over both parts: the few that change are near-ties.
	if agree := float64(agreeAll) / float64(len(paths)); agree < 0.99 {
		t.Errorf("labels agree on %d of %d photos (%.2f%%), want >= 99%%", agreeAll, len(paths), 100*agree)
	}
}

// kind is the class of a sample photo: the flower, or for the pets, cat or
// dog (the Oxford-IIIT Pet breeds of cats are capitalised).
func kind(set, folder string) string {
	if set != "pets" {
		return folder
	}
	if folder != "" && folder[0] >= 'A' && folder[0] <= 'Z' {
		return "cat"
	}
	return "dog"
}

// featuresOf runs the backbone on the photos loaded with decoder dec, in
// batches of 8.
func featuresOf(t *testing.T, s *onnxrt.Session, paths []string, dec photo.JPEGDecoder) [][]float32 {
	t.Helper()
	const batch = 8
	size := inception.Size
	var out [][]float32
	for lo := 0; lo < len(paths); lo += batch {
		hi := min(lo+batch, len(paths))
		in := make([]float32, 0, (hi-lo)*3*size*size)
		for _, p := range paths[lo:hi] {
			m, err := photo.LoadFile(p, size, photo.Limits{JPEG: dec})
			if err != nil {
				t.Fatal(err)
			}
			in = m.AppendFloat32(in, 1, 0)
		}
		f, err := s.Run(context.Background(), in, int64(hi-lo), int64(size), int64(size), 3)
		if err != nil {
			t.Fatal(err)
		}
		dim := len(f) / (hi - lo)
		for i := range hi - lo {
			out = append(out, f[i*dim:(i+1)*dim])
		}
	}
	return out
}

// enlarge writes a 12-megapixel version of the photo at in to out, with a
// sensor's grain, as tools/largephotos does.
func enlarge(t *testing.T, in, out string, seed uint64) {
	t.Helper()
	m, _, err := photo.DecodeFile(in, photo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	dst := largephoto.Make(m, seed, largephoto.Grain)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, dst, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func normalise(v []float64) {
	n := math.Sqrt(dot(v, v))
	for i := range v {
		v[i] /= n
	}
}

// session opens the offline backbone on the CPU.
func session(t *testing.T) *onnxrt.Session {
	t.Helper()
	m, err := tfjs.Read(mltest.Backbone(t))
	if err != nil {
		t.Fatal(err)
	}
	kl, err := m.KerasLayers()
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := inception.FromKeras(kl)
	if err != nil {
		t.Fatal(err)
	}
	model, err := proto.Marshal(w.Model(inception.UnitRange, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := onnxrt.Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.NewSession(model, inception.InputName, inception.OutputName, onnxrt.Options{Provider: onnxrt.CPU})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
