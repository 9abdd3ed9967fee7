package features

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"google.golang.org/protobuf/proto"
)

// TestExtractMixed8 checks the one pass of fine-tuning: the features and
// the mixed8 activations that it gives real photos are those of the
// features model and of the mixed8 model run apart, the activations reach
// the cache under their own keys, and a photo whose features are cached
// but not its activations keeps its cached features.
func TestExtractMixed8(t *testing.T) {
	w := backboneWeights(t)
	rt := loadRuntime(t)
	opt := onnxrt.Options{Provider: onnxrt.CPU}
	both, err := proto.Marshal(w.Mixed8FeaturesModel(inception.UnitRange, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := rt.NewMultiSession(both, []string{inception.InputName}, []string{inception.OutputName, inception.Mixed8Output}, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	m8, err := proto.Marshal(w.Mixed8Model(inception.UnitRange, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	m8s, err := rt.NewSession(m8, inception.InputName, inception.Mixed8Output, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer m8s.Close()
	fs := session(t)

	items := photos(t, "flowers", 6)
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken.jpg")
	if err := os.WriteFile(bad, []byte("not a photo"), 0o644); err != nil {
		t.Fatal(err)
	}
	items = append(items, Item{Path: bad, Hash: [32]byte{1}})
	cache, err := OpenCache(filepath.Join(dir, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Today's two passes, apart, as the reference.
	want, err := (&Extractor{Session: fs, Batch: 3, Workers: 2}).Extract(ctx, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantActs, err := (&Extractor{Session: m8s, Batch: 3, Workers: 2, Dim: inception.Mixed8Values}).Extract(ctx, items, nil)
	if err != nil {
		t.Fatal(err)
	}

	one := &Extractor{Session: fs, Backbone: "test", Cache: cache, Batch: 3, Workers: 2,
		Mixed8: &Mixed8{Session: ms, Backbone: "test-mixed8", Cache: cache}}
	got, err := one.Extract(ctx, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad6 := len(items) - 1
	var worst float64
	if got.Errs[bad6] == nil {
		t.Errorf("the broken photo has no error")
	}
	for i := range bad6 {
		if got.Errs[i] != nil {
			t.Fatalf("%s: %v", items[i].Path, got.Errs[i])
		}
		d := mltest.RelL2(got.Row(i), want.Row(i))
		worst = max(worst, d)
		if d > 1e-5 {
			t.Errorf("%s: one-pass features differ from the features model's by %g (relative L2)", items[i].Path, d)
		}
		acts, ok := cache.GetHalf(one.Mixed8Key(items[i]), nil)
		if !ok {
			t.Fatalf("%s: no mixed8 activations in the cache", items[i].Path)
		}
		// float16 keeps about 3 decimal digits.
		if d := mltest.RelL2(acts, wantActs.Row(i)); d > 1e-3 {
			t.Errorf("%s: cached activations differ from the mixed8 model's by %g (relative L2)", items[i].Path, d)
		}
		if k := one.Mixed8Key(items[i]); k.Backbone != "test-mixed8" || k.Photo != items[i].Hash {
			t.Errorf("mixed8 key %+v", k)
		}
	}
	t.Logf("one-pass features vs the features model's: at most %g relative L2", worst)
	if n, _, _ := cache.Stats(); n != 2*bad6 {
		t.Errorf("cache holds %d entries, want %d (features and activations of %d photos)", n, 2*bad6, bad6)
	}

	// A second run takes both from the cache; with one photo's
	// activations gone, that photo goes through the backbone again and
	// keeps its cached features bit for bit.
	if err := os.Remove(cache.path(one.Mixed8Key(items[2]), ".f16")); err != nil {
		t.Fatal(err)
	}
	again, err := one.Extract(ctx, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.FromCache != bad6-1 {
		t.Errorf("second run took %d photos from the cache, want %d", again.FromCache, bad6-1)
	}
	for i := range got.Features {
		if got.Features[i] != again.Features[i] {
			t.Fatalf("value %d of the second run differs from the first", i)
		}
	}
	if _, ok := cache.GetHalf(one.Mixed8Key(items[2]), nil); !ok {
		t.Errorf("the removed activations were not computed again")
	}

	// Without a hash an item's activations could not be kept.
	res, err := one.Extract(ctx, []Item{{Path: items[0].Path}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errs[0] == nil {
		t.Errorf("an item without a hash got no error")
	}
	if _, err := (&Extractor{Session: fs, Dim: 7, Mixed8: one.Mixed8}).Extract(ctx, items, nil); err == nil {
		t.Errorf("one pass with another vector length: no error")
	}
}

// TestExtractEach checks that results are handed over in order, once
// each, with their rows final, cached and failed photos included; and that
// an error from the callback stops the extraction.
func TestExtractEach(t *testing.T) {
	s := session(t)
	items := photos(t, "pets", 20)
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken.jpg")
	if err := os.WriteFile(bad, []byte("not a photo"), 0o644); err != nil {
		t.Fatal(err)
	}
	items = append(items[:5], append([]Item{{Path: bad}}, items[5:]...)...)
	cache, err := OpenCache(filepath.Join(dir, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Some photos cached, so that they finish before the others.
	warm := []Item{items[3], items[12], items[17]}
	if _, err := (&Extractor{Session: s, Backbone: "test", Cache: cache}).Extract(ctx, warm, nil); err != nil {
		t.Fatal(err)
	}
	e := &Extractor{Session: s, Backbone: "test", Cache: cache, Batch: 4, Workers: 3}
	rows := make([][]float32, len(items))
	errs := make([]error, len(items))
	next, calls := 0, 0
	res, err := e.ExtractEach(ctx, items, nil, func(r *Result, from, to int) error {
		calls++
		if from != next || to <= from || to > len(items) {
			t.Fatalf("handed [%d, %d), want from %d", from, to, next)
		}
		for i := from; i < to; i++ {
			rows[i] = append([]float32(nil), r.Row(i)...)
			errs[i] = r.Errs[i]
		}
		next = to
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next != len(items) || calls < 2 {
		t.Fatalf("handed %d items in %d calls, want %d in several", next, calls, len(items))
	}
	for i := range items {
		if !errors.Is(errs[i], res.Errs[i]) {
			t.Errorf("%s: handed error %v, final %v", items[i].Path, errs[i], res.Errs[i])
		}
		for k, v := range res.Row(i) {
			if rows[i][k] != v {
				t.Fatalf("%s: handed row differs from the final one at %d", items[i].Path, k)
			}
		}
	}
	if errs[5] == nil {
		t.Errorf("the broken photo was handed without its error")
	}

	stop := errors.New("enough")
	_, err = e.ExtractEach(ctx, items, nil, func(*Result, int, int) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the callback's", err)
	}
}
