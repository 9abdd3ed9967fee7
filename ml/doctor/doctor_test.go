package doctor

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/probes"
)

// firstN returns the share of the first n suspects whose label was
// planted wrong: the measure of issue 17 §3 (chance is the share of wrong
// labels).
func firstN(rep Report, wrong map[string]string, n int) float64 {
	hits := 0
	for _, s := range rep.Mislabeled[:min(n, len(rep.Mislabeled))] {
		if _, ok := wrong[s.Path]; ok {
			hits++
		}
	}
	return float64(hits) / float64(n)
}

func suspectPaths(rep Report) []string {
	var p []string
	for _, s := range rep.Mislabeled {
		p = append(p, s.Path)
	}
	return p
}

func wrongSet(p planted) map[string]bool {
	m := map[string]bool{}
	for k := range p.wrong {
		m[k] = true
	}
	return m
}

// TestWrongLabels plants 10% wrong labels in folders built from the
// sample photos and measures the suspects with the offline test model.
func TestWrongLabels(t *testing.T) {
	for _, tc := range []struct {
		source string
		// floors measured on this machine (see the log), with margin.
		minFirstN, minRecall float64
		silent               bool // the model is too weak: no list, a warning
	}{
		{source: "species", minFirstN: 0.25, minRecall: 0.4},
		{source: "mixed", minFirstN: 0.6, minRecall: 0.7},
		{source: "flowers", silent: true},
	} {
		t.Run(tc.source, func(t *testing.T) {
			p := plant(t, plan{source: tc.source, wrong: 0.1, seed: 1})
			_, in := scan(t, p.dir, dataset.Options{}, false)
			rep, err := Check(context.Background(), in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			n := len(p.wrong)
			prec, rec, hits := precisionRecall(suspectPaths(rep), wrongSet(p))
			fn := firstN(rep, p.wrong, n)
			t.Logf("%s: %d photos, %d wrong; %d suspects, %d right: precision %.2f, recall %.2f; first %d suspects: %.0f%% wrong (chance %.0f%%); warnings %q",
				tc.source, len(in.Photos), n, len(rep.Mislabeled), hits, prec, rec, n, 100*fn, 100*float64(n)/float64(len(in.Photos)), rep.Warnings)
			if tc.silent {
				if len(rep.Mislabeled) != 0 || len(rep.Warnings) == 0 {
					t.Errorf("a model that cannot tell the classes apart listed %d suspects, warnings %q", len(rep.Mislabeled), rep.Warnings)
				}
				return
			}
			if fn < tc.minFirstN || rec < tc.minRecall {
				t.Errorf("first %d suspects %.2f wrong (want ≥ %.2f), recall %.2f (want ≥ %.2f)", n, fn, tc.minFirstN, rec, tc.minRecall)
			}
			for _, s := range rep.Mislabeled {
				if truth, ok := p.wrong[s.Path]; ok && s.Suggested != truth && tc.source != "species" {
					t.Errorf("%s: suggested %s, really %s", s.Path, s.Suggested, truth)
				}
				if s.Score < 0 || s.Score > 1 || s.SHA256 == "" {
					t.Errorf("suspect %+v", s)
				}
			}
			if !slices.IsSortedFunc(rep.Mislabeled, func(a, b Suspect) int { return cmpFloat(b.Score, a.Score) }) {
				t.Error("suspects are not ranked most certain first")
			}
		})
	}
}

// TestCleanFolderSaysLittle checks that a clean folder the model can tell
// apart gets no padded list.
func TestCleanFolderSaysLittle(t *testing.T) {
	p := plant(t, plan{source: "mixed", seed: 1})
	_, in := scan(t, p.dir, dataset.Options{}, false)
	rep, err := Check(context.Background(), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("clean pets and flowers: %d photos, %d suspects: %v", len(in.Photos), len(rep.Mislabeled), rep.Mislabeled)
	if len(rep.Mislabeled) > len(in.Photos)/50 {
		t.Errorf("%d suspects in a clean folder of %d photos", len(rep.Mislabeled), len(in.Photos))
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestNearCopies plants 20 near-copies (cropped 5%, resized to 70%, JPEG
// quality 60) in folders of pets and of flowers.
func TestNearCopies(t *testing.T) {
	for _, source := range []string{"species", "flowers"} {
		t.Run(source, func(t *testing.T) {
			p := plant(t, plan{source: source, copies: 20, seed: 2})
			_, in := scan(t, p.dir, dataset.Options{Validation: 0.3}, true)
			rep, err := Check(context.Background(), in, Options{NoStrangers: "not measured here"})
			if err != nil {
				t.Fatal(err)
			}
			var found [][2]string
			for _, c := range rep.NearDuplicates {
				k := pairKey(c.Paths[0], c.Paths[1])
				found = append(found, k)
				if !p.copies[k] {
					t.Logf("unplanted pair %.2f: %s %s", c.Similarity, filepath.Base(c.Paths[0]), filepath.Base(c.Paths[1]))
				}
				if c.Splits[0] == "" || c.Labels[0] == "" || c.Similarity <= 0 || c.Similarity > 1 {
					t.Errorf("pair %+v", c)
				}
			}
			prec, rec, hits := precisionRecall(found, p.copies)
			t.Logf("%s: %d photos, %d copies planted; %d pairs, %d planted: precision %.2f, recall %.2f", source, len(in.Photos), len(p.copies), len(found), hits, prec, rec)
			if rec < 1 {
				t.Errorf("recall %.2f, want every planted copy", rec)
			}
			// The flowers sample holds near-duplicates of its own, each
			// looked at: three pairs of the same shot (one recoloured),
			// two shots of the same flower bed a step apart (0.62), and
			// a planted copy of one photo of a pair paired with the
			// other. The pets hold none.
			if max := map[string]int{"species": 0, "flowers": 5}[source]; len(found)-hits > max {
				t.Errorf("%d unplanted pairs, want at most %d", len(found)-hits, max)
			}
		})
	}
}

// TestStrangersNotJudged: the offline model's pooled features put flowers
// and pages of text close to cats and dogs; with the shipped probe photos
// the doctor sees that and says it cannot judge rather than list noise.
func TestStrangersNotJudged(t *testing.T) {
	p := plant(t, plan{source: "species", strangers: 10, seed: 3})
	_, in := scan(t, p.dir, dataset.Options{}, false)
	rep, err := Check(context.Background(), in, Options{Probes: shippedProbes(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("judged %v: %s; %d outliers", rep.StrangersJudged, rep.StrangersReason, len(rep.Outliers))
	if rep.StrangersJudged || rep.StrangersReason == "" || len(rep.Outliers) != 0 {
		t.Errorf("judged %v, reason %q, %d outliers; want not judged, with a reason", rep.StrangersJudged, rep.StrangersReason, len(rep.Outliers))
	}
}

// TestStrangersJudged is the case the offline model can see: pets planted
// among its flowers stand far from every kind of flower, and the pages of
// text and screenshots among the probes stand out too (the flower and
// landscape probes resemble the flowers and are skipped).
func TestStrangersJudged(t *testing.T) {
	p := plant(t, plan{source: "flowers", strangers: 10, seed: 3})
	_, in := scan(t, p.dir, dataset.Options{}, false)
	rep, err := Check(context.Background(), in, Options{Probes: shippedProbes(t)})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, s := range rep.Outliers {
		listed = append(listed, s.Path)
	}
	prec, rec, _ := precisionRecall(listed, p.strangers)
	t.Logf("judged %v (%s): %d listed, precision %.2f, recall %.2f", rep.StrangersJudged, rep.StrangersReason, len(listed), prec, rec)
	// Measured: 8 of the 10 planted pets listed, with 1 flower.
	if !rep.StrangersJudged || rec < 0.7 || prec < 0.6 {
		t.Errorf("judged %v (%q), precision %.2f, recall %.2f; want judged, both at least 0.6/0.7", rep.StrangersJudged, rep.StrangersReason, prec, rec)
	}
}

// shippedProbes returns the features of the probe photos Clasifica ships.
func shippedProbes(t *testing.T) []Probe {
	t.Helper()
	photos, items, err := probes.Items(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	x, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	res, err := x.Extract(context.Background(), items, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Probe, len(photos))
	for i, p := range photos {
		if res.Errs[i] != nil {
			t.Fatalf("probe %s: %v", p.File, res.Errs[i])
		}
		out[i] = Probe{Name: p.Name, Features: res.Row(i)}
	}
	return out
}

// TestStrangersLowerLayer plants pages of text, line drawings and noise
// among flowers and ranks the photos by strangeness (Profile.Deviations)
// in the pooled features of a lower layer of the offline model, which
// sees texture and colour. The planted photos rank among the strangest.
func TestStrangersLowerLayer(t *testing.T) {
	p := plant(t, plan{source: "flowers", seed: 3})
	for i, k := range []string{"text", "text", "lines", "lines", "noise", "noise"} {
		path := filepath.Join(p.dir, []string{"daisy", "rose", "tulip"}[i%3], "stranger-"+k+string(rune('a'+i))+".png")
		drawing(t, k, uint64(i), path)
		p.strangers[path] = true
	}
	d, _ := scan(t, p.dir, dataset.Options{}, false)
	labels := make([]int, len(d.Items))
	for i, it := range d.Items {
		labels[i] = it.Label
	}
	x := lowerFeatures(t, d)
	prof, err := NewProfile(x, lowerDim, labels, len(d.Classes))
	if err != nil {
		t.Fatal(err)
	}
	s := make([]float64, len(d.Items))
	for i := range s {
		s[i], _ = prof.Deviations(x[i*lowerDim : (i+1)*lowerDim])
	}
	order := make([]int, len(s))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpFloat(s[b], s[a]) })
	var ranks []int
	for r, i := range order {
		if p.strangers[d.Items[i].Path] {
			ranks = append(ranks, r+1)
		}
	}
	top := len(s) / 5
	within := 0
	for _, r := range ranks {
		if r <= top {
			within++
		}
	}
	t.Logf("%d photos; the %d planted strangers rank %v; %d among the strangest %d (precision %.2f, recall %.2f at that depth)",
		len(s), len(ranks), ranks, within, top, float64(within)/float64(top), float64(within)/float64(len(ranks)))
	// Measured: ranks 1, 2, 3, 4, 5, 7 of 156 (the neighbour-distance
	// score this replaced: 5, 6, 16, 17, 20, 24).
	if within < 5 {
		t.Errorf("%d of %d planted strangers among the strangest %d", within, len(ranks), top)
	}
}

// TestStrangersListed checks the list on features with a known answer:
// clusters of photos and a few far from all of them.
func TestStrangersListed(t *testing.T) {
	const dim = 32
	x, labels, _ := synthetic([]int{60, 60, 60}, dim, 0.5, 0, 9)
	rng := rand.New(rand.NewPCG(4, 4))
	far := map[string]bool{}
	in := syntheticInput(x, labels, 3, dim)
	for k := range 4 {
		for range dim {
			in.Features = append(in.Features, float32(3*rng.NormFloat64()+1))
		}
		var h [32]byte
		h[0], h[2] = byte(k), 1
		p := Photo{Path: "far" + string(rune('a'+k)), Hash: h, Label: k % 3}
		in.Photos = append(in.Photos, p)
		far[p.Path] = true
	}
	rep, err := Check(context.Background(), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, s := range rep.Outliers {
		listed = append(listed, s.Path)
	}
	prec, rec, _ := precisionRecall(listed, far)
	t.Logf("%d listed: precision %.2f, recall %.2f", len(listed), prec, rec)
	if !rep.StrangersJudged || prec < 1 || rec < 1 {
		t.Errorf("judged %v, listed %q", rep.StrangersJudged, listed)
	}
	// Without far photos, nothing is listed.
	in2 := syntheticInput(x, labels, 3, dim)
	rep, err = Check(context.Background(), in2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Outliers) > 1 {
		t.Errorf("%d outliers among clusters alone", len(rep.Outliers))
	}
}

// synthetic returns n rows of dim features around one centre per class
// (class sizes from sizes), with the labels of the rows in wrong moved to
// another class.
func synthetic(sizes []int, dim int, spread float64, wrongShare float64, seed uint64) (x []float32, labels []int, wrong map[int]int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([][]float64, len(sizes))
	for c := range centres {
		centres[c] = make([]float64, dim)
		for j := range dim {
			centres[c][j] = rng.NormFloat64()
		}
	}
	wrong = map[int]int{}
	for c, k := range sizes {
		for range k {
			for j := range dim {
				x = append(x, float32(math.Max(0, centres[c][j]+spread*rng.NormFloat64()+1)))
			}
			labels = append(labels, c)
		}
	}
	for _, i := range rng.Perm(len(labels))[:int(wrongShare*float64(len(labels)))] {
		l := rng.IntN(len(sizes) - 1)
		if l >= labels[i] {
			l++
		}
		wrong[i] = labels[i]
		labels[i] = l
	}
	return x, labels, wrong
}

func syntheticInput(x []float32, labels []int, classes, dim int) Input {
	in := Input{Features: x, Dim: dim}
	for c := range classes {
		in.Classes = append(in.Classes, string(rune('A'+c%26))+string(rune('a'+c/26)))
	}
	for i, l := range labels {
		var h [32]byte
		h[0], h[1] = byte(i), byte(i>>8)
		in.Photos = append(in.Photos, Photo{Path: string(rune(i)), Hash: h, Label: l})
	}
	return in
}

// TestSyntheticClasses checks the label check with 2 and 37 classes,
// balanced and not, on features with a known answer: well-separated
// clusters with 10% of the labels moved, and the same clean.
func TestSyntheticClasses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sizes []int
	}{
		{"two", []int{60, 60}},
		{"two unbalanced", []int{150, 30}},
		{"37", slices.Repeat([]int{12}, 37)},
		{"37 unbalanced", append(slices.Repeat([]int{8}, 30), 40, 40, 40, 40, 40, 40, 40)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const dim = 64
			for _, share := range []float64{0, 0.1} {
				x, labels, wrong := synthetic(tc.sizes, dim, 0.6, share, 7)
				in := syntheticInput(x, labels, len(tc.sizes), dim)
				rep, err := Check(context.Background(), in, Options{NoStrangers: "synthetic"})
				if err != nil {
					t.Fatal(err)
				}
				truth := map[string]bool{}
				for i := range wrong {
					truth[in.Photos[i].Path] = true
				}
				prec, rec, _ := precisionRecall(suspectPaths(rep), truth)
				t.Logf("%s, %.0f%% wrong: %d suspects for %d wrong: precision %.2f recall %.2f; warnings %q", tc.name, 100*share, len(rep.Mislabeled), len(wrong), prec, rec, rep.Warnings)
				if share == 0 && len(rep.Mislabeled) > 0 {
					t.Errorf("clean: %d suspects", len(rep.Mislabeled))
				}
				// Measured: precision 1 everywhere; recall 1 (two
				// balanced classes), 0.86 (37), 0.67 and 0.71 (unbalanced:
				// the small classes hold a third of wrong labels, which
				// lowers their self-confidence thresholds).
				if share > 0 && (prec < 0.95 || rec < 0.6) {
					t.Errorf("precision %.2f, recall %.2f, want ≥ 0.95 and 0.6", prec, rec)
				}
				for _, s := range rep.Mislabeled {
					for i, p := range in.Photos {
						if p.Path == s.Path && wrong[i] != 0 || p.Path == s.Path && in.Classes[wrong[i]] != s.Suggested && truth[s.Path] {
							if in.Classes[wrong[i]] != s.Suggested {
								t.Errorf("%q suggested %s, really %s", s.Path, s.Suggested, in.Classes[wrong[i]])
							}
						}
					}
				}
			}
		})
	}
}

// TestOutOfFoldProbabilities checks the exported probabilities: one row
// per photo summing to 1, and a photo's own label never seen in training
// (a photo alone in its class gets a low probability for it).
func TestOutOfFoldProbabilities(t *testing.T) {
	x, labels, _ := synthetic([]int{20, 20, 1}, 16, 0.3, 0, 3)
	probs, err := OutOfFold(context.Background(), x, 16, labels, 3, FoldOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != len(labels) {
		t.Fatalf("%d rows for %d photos", len(probs), len(labels))
	}
	for i, p := range probs {
		s := 0.0
		for _, v := range p {
			s += v
		}
		if math.Abs(s-1) > 1e-6 {
			t.Errorf("row %d sums to %v", i, s)
		}
	}
	if p := probs[len(probs)-1][2]; p > 0.1 {
		t.Errorf("the lone photo of class 2 got %.2f for it: its own label leaked into its model", p)
	}
	if p := probs[0][0]; p < 0.8 {
		t.Errorf("a photo of a clear class got %.2f for it", p)
	}
	if _, err := OutOfFold(context.Background(), x, 16, labels, 3, FoldOptions{Folds: 100}); err == nil {
		t.Error("100 folds of 41 rows accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := OutOfFold(ctx, x, 16, labels, 3, FoldOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestFlatPicturesNotCopies: a page of text and a screenshot, both mostly
// flat, were called near-copies (their difference hashes agree where
// neither has edges); the same page drawn at another size still is one.
func TestFlatPicturesNotCopies(t *testing.T) {
	// page draws a white page with lines of "text" (dark bars) at scale s.
	page := func(w, h int) *photo.RGB {
		p := &photo.RGB{Width: w, Height: h, Pix: make([]uint8, 3*w*h)}
		for y := range h {
			for x := range w {
				v := uint8(250)
				// Lines of words at the top left, as on a receipt.
				line, col := y*40/h, x*30/w
				if line >= 3 && line <= 20 && line%3 == 0 && col >= 2 && col <= 4+(line*7)%13 && (col+line)%5 != 0 {
					v = 20
				}
				p.Pix[3*(y*w+x)], p.Pix[3*(y*w+x)+1], p.Pix[3*(y*w+x)+2] = v, v, v
			}
		}
		return p
	}
	// screen draws a dark window with a title bar and a grey panel.
	screen := func(w, h int) *photo.RGB {
		p := &photo.RGB{Width: w, Height: h, Pix: make([]uint8, 3*w*h)}
		for y := range h {
			for x := range w {
				r, g, b := uint8(43), uint8(43), uint8(43)
				switch {
				case y < h/12:
					r, g, b = 60, 141, 188
				case y > h/7 && y < h*14/15 && x > w/25 && x < w*24/25:
					r, g, b = 68, 68, 68
				}
				p.Pix[3*(y*w+x)], p.Pix[3*(y*w+x)+1], p.Pix[3*(y*w+x)+2] = r, g, b
			}
		}
		return p
	}
	prints := []Print{Fingerprint(page(299, 299)), Fingerprint(screen(299, 299)), Fingerprint(page(209, 209))}
	pairs, err := nearPairs(context.Background(), prints, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 1 || pairs[0].a != 0 || pairs[0].b != 2 {
		t.Errorf("pairs %+v, want only the page and its smaller copy (0, 2)", pairs)
	}
}
