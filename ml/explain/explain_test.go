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
	eng onnxrt.Engine
	b   *backbone.Backbone
	m   *model.Model
	// ex explains at the default layer; at holds an explainer per layer.
	ex     *Explainer
	at     map[string]*Explainer
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
	f := &fixture{eng: eng, b: b, m: res.Model, at: map[string]*Explainer{}}
	for _, l := range Layers() {
		ex, err := NewWith(eng, b.Weights, b.Preprocess, res.Model.Head, Options{Layer: l})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ex.Close() })
		f.at[l.Name] = ex
	}
	f.ex = f.at[DefaultLayer.Name]
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

	for _, l := range Layers() {
		t.Run("maps at "+l.Name, func(t *testing.T) {
			ex := f.at[l.Name]
			if ex.Layer() != l {
				t.Fatalf("explainer at %v, want %v", ex.Layer(), l)
			}
			p := load(t, f.photos[0])
			m, err := ex.Explain(ctx, p, -1)
			if err != nil {
				t.Fatal(err)
			}
			if m.Rows != l.Side || m.Cols != l.Side || len(m.Values) != l.Side*l.Side || len(m.Grid()) != l.Side || len(m.Grid()[l.Side-1]) != l.Side {
				t.Fatalf("map of %d×%d, %d values, want %d×%d", m.Rows, m.Cols, len(m.Values), l.Side, l.Side)
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
			// probabilities: those of the classifier's head on the
			// backbone's features. At mixed7 the gradient graph computes
			// mixed8 to mixed10 itself: the same probabilities show it
			// computes them as the backbone does.
			want, err := h.Predict(mustFeatures(t, ex, p))
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
			other, err := ex.Explain(ctx, p, (m.Class+1)%len(f.m.Labels))
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(other.Values, m.Values) {
				t.Error("two classes have the same map")
			}
			if _, err := ex.Explain(ctx, p, len(f.m.Labels)); err == nil {
				t.Error("a class beyond the labels was explained")
			}
			o := Overlay(p, m)
			if o.Bounds() != image.Rect(0, 0, 299, 299) {
				t.Errorf("overlay of %v", o.Bounds())
			}
		})
	}

	// The gradient at mixed7 passes back through mixed8 (its max pool
	// and stride-2 convolutions), mixed9 and mixed10 of the real network:
	// a step along it must change the score by what it predicts.
	t.Run("gradient at mixed7", func(t *testing.T) { gradientCheck(t, f, Mixed7) })

	// Faithfulness (the deletion test of Petsiuk et al. 2018 in its
	// simplest form): greying the quarter of the grid the map ranks
	// highest lowers the answer's probability more than greying the
	// quarter it ranks lowest, for a large majority of photos.
	t.Run("faithfulness", func(t *testing.T) { faithfulness(t, f, f.ex) })

	// Sanity (Adebayo et al. 2018): a head with random weights gives
	// other maps; a map that did not change would show the photo, not
	// what the model learnt.
	t.Run("sanity", func(t *testing.T) { sanity(t, f) })
}

// gradientCheck compares the gradient of the answer's log-probability
// with respect to the layer's activations with a central difference of
// the log-probability along it, computed by the same graph in float32.
func gradientCheck(t *testing.T, f *fixture, l Layer) {
	ctx := context.Background()
	ex, err := NewWith(f.eng, f.b.Weights, f.b.Preprocess, f.m.Head, Options{Layer: l, Score: LogProbability})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	for _, path := range f.photos[:3] {
		p := load(t, path)
		act := mustActivations(t, ex, p)
		// mixed7 ends in ReLUs: many activations are exactly 0, and a
		// max-pool window of zeros is a kink (its gradient goes to one of
		// them; a step down moves none). Small random offsets break the
		// ties so that the score is differentiable where it is checked.
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range act {
			act[i] += float32(0.05 * rng.Float64())
		}
		m, err := ex.Explain(ctx, p, -1)
		if err != nil {
			t.Fatal(err)
		}
		// The graph's gradient is that of -log p (the cross-entropy).
		logp := func(a []float32) (float64, []float32) {
			hot := make([]float32, ex.classes)
			hot[m.Class] = 1
			out := []onnxrt.Tensor{
				{Data: make([]float32, len(a)), Shape: []int64{1, int64(l.Channels), int64(l.Side), int64(l.Side)}},
				{Data: make([]float32, ex.classes), Shape: []int64{1, int64(ex.classes)}},
			}
			if err := ex.bwd.Run(ctx, []onnxrt.Tensor{
				{Data: a, Shape: out[0].Shape}, {Data: hot, Shape: out[1].Shape},
			}, out); err != nil {
				t.Fatal(err)
			}
			for i := range out[0].Data {
				out[0].Data[i] = -out[0].Data[i]
			}
			return math.Log(float64(out[1].Data[m.Class])), out[0].Data
		}
		base, g := logp(act)
		var norm float64
		for _, v := range g {
			norm += float64(v) * float64(v)
		}
		norm = math.Sqrt(norm)
		if norm == 0 || math.IsNaN(norm) {
			t.Fatalf("%s: gradient norm %v", path, norm)
		}
		// A step of eps along the unit gradient changes log p by eps·|g|
		// to first order.
		const eps = 2e-3
		step := func(sign float64) []float32 {
			a := slices.Clone(act)
			for i, v := range g {
				a[i] += float32(sign * eps * float64(v) / norm)
			}
			return a
		}
		up, _ := logp(step(1))
		down, _ := logp(step(-1))
		fd := (up - down) / (2 * eps)
		t.Logf("%s: log p %.4f, |gradient| %.5f, central difference %.5f", filepath.Base(path), base, norm, fd)
		if math.Abs(fd-norm) > 0.01*norm {
			t.Errorf("%s: the gradient's norm is %.5f, a step along it changes log p at a rate of %.5f", path, norm, fd)
		}
	}
}

// faithfulness runs the deletion test on every photo of the folder (it
// judges the heatmap against the model, whatever the photo).
func faithfulness(t *testing.T, f *fixture, ex *Explainer) {
	photos := make([]*photo.RGB, len(f.all))
	for i, path := range f.all {
		photos[i] = load(t, path)
	}
	r, err := DeletionTest(context.Background(), ex, photos)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("at %s, greying the top quarter lowered the answer more than the bottom quarter for %d of %d photos (mean drop %.3f against %.3f)",
		ex.Layer().Name, r.Wins, r.Photos, r.DropTop, r.DropBottom)
	// With the offline test backbone, which transfers poorly (its answers
	// on these photos are often wrong and seldom confident), the map at
	// mixed10 passes for fewer photos than hoped for: 95 of 150 when
	// first written (features from Go's JPEG decoder), 114 of 150 with
	// libjpeg-turbo's, its top quarter costing the answer 4.4 times what
	// its bottom quarter does (mixed7: 113, 2.0 times). The test holds it
	// to a clear majority and a clear difference.
	if float64(r.Wins) < 0.55*float64(r.Photos) || r.DropTop < 1.3*r.DropBottom {
		t.Errorf("faithful for only %d of %d photos, mean drops %.3f and %.3f", r.Wins, r.Photos, r.DropTop, r.DropBottom)
	}
}

// sanity compares the maps of the trained head and of a random one.
func sanity(t *testing.T, f *fixture) {
	random, err := NewWith(f.eng, f.b.Weights, f.b.Preprocess, RandomHead(f.m.Head, 7), Options{Layer: f.ex.Layer()})
	if err != nil {
		t.Fatal(err)
	}
	defer random.Close()
	n := min(len(f.photos), 10)
	photos := make([]*photo.RGB, n)
	for i, path := range f.photos[:n] {
		photos[i] = load(t, path)
	}
	corr, err := Sanity(context.Background(), f.ex, random, photos)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mean rank correlation of trained and random heads' maps at %s: %.2f", f.ex.Layer().Name, corr)
	if corr > 0.5 {
		t.Errorf("randomising the head left the maps alike (rank correlation %.2f)", corr)
	}
}

// mustActivations runs the explainer's backbone graph and returns the
// layer's activations.
func mustActivations(t *testing.T, ex *Explainer, p *photo.RGB) []float32 {
	t.Helper()
	return mustForward(t, ex, p)[0].Data
}

// mustFeatures runs the explainer's backbone graph and returns the
// features.
func mustFeatures(t *testing.T, ex *Explainer, p *photo.RGB) []float32 {
	t.Helper()
	return mustForward(t, ex, p)[1].Data
}

func mustForward(t *testing.T, ex *Explainer, p *photo.RGB) []onnxrt.Tensor {
	t.Helper()
	l := ex.Layer()
	out := []onnxrt.Tensor{
		{Data: make([]float32, l.Channels*l.Side*l.Side), Shape: []int64{1, int64(l.Channels), int64(l.Side), int64(l.Side)}},
		{Data: make([]float32, inception.Features), Shape: []int64{1, inception.Features}},
	}
	if err := ex.fwd.Run(context.Background(), []onnxrt.Tensor{{Data: p.AppendFloat32(nil, 1, 0), Shape: []int64{1, inception.Size, inception.Size, 3}}}, out); err != nil {
		t.Fatal(err)
	}
	return out
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

// BenchmarkExplain measures one heatmap at each layer: the backbone and
// the backward pass from the layer.
func BenchmarkExplain(b *testing.B) {
	f := setup(b)
	p := load(b, filepath.Join(mltest.Photos(b, "flowers"), "daisy", "100080576_f52e8ee070_n.jpg"))
	for _, l := range Layers() {
		b.Run(l.Name, func(b *testing.B) {
			start := time.Now()
			for range b.N {
				if _, err := f.at[l.Name].Explain(context.Background(), p, -1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/photo")
		})
	}
}
