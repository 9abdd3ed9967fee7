package features

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/keras"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/tfjs"
	"google.golang.org/protobuf/proto"
)

// session opens the offline backbone once per test binary.
func session(t testing.TB) *onnxrt.Session {
	t.Helper()
	model, err := proto.Marshal(backboneWeights(t).Model(inception.UnitRange, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	s, err := loadRuntime(t).NewSession(model, inception.InputName, inception.OutputName, onnxrt.Options{Provider: onnxrt.CPU})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// backboneWeights reads the offline backbone's weights.
func backboneWeights(t testing.TB) *inception.Weights {
	t.Helper()
	m, err := tfjs.Read(mltest.Backbone(t))
	if err != nil {
		t.Fatal(err)
	}
	var kl []keras.Layer
	if kl, err = m.KerasLayers(); err != nil {
		t.Fatal(err)
	}
	w, _, err := inception.FromKeras(kl)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func loadRuntime(t testing.TB) *onnxrt.Runtime {
	t.Helper()
	rt, err := onnxrt.Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func photos(t testing.TB, set string, limit int) []Item {
	t.Helper()
	var items []Item
	root := mltest.Photos(t, set)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		items = append(items, Item{Path: p, Hash: sha256.Sum256(data)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })
	if limit > 0 && len(items) > limit {
		items = items[:limit]
	}
	return items
}

func TestExtract(t *testing.T) {
	s := session(t)
	items := photos(t, "flowers", 20)
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken.jpg")
	if err := os.WriteFile(bad, []byte("not a photo"), 0o644); err != nil {
		t.Fatal(err)
	}
	items = append(items[:10], append([]Item{{Path: bad}}, items[10:]...)...)
	cache, err := OpenCache(filepath.Join(dir, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	e := &Extractor{Session: s, Backbone: "test", Cache: cache, Batch: 4, Workers: 2}
	var last Progress
	res, err := e.Extract(context.Background(), items, func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if last.Done != len(items) || last.Failed != 1 || last.FromCache != 0 {
		t.Errorf("final progress %+v", last)
	}
	var pe *photo.Error
	if !errors.As(res.Errs[10], &pe) || pe.Path != bad {
		t.Errorf("broken photo error %v", res.Errs[10])
	}
	for i := range items {
		if i == 10 {
			continue
		}
		if res.Errs[i] != nil {
			t.Fatalf("%s: %v", items[i].Path, res.Errs[i])
		}
		var sum float64
		for _, v := range res.Row(i) {
			if v < 0 || math.IsNaN(float64(v)) {
				t.Fatalf("%s: feature %v (pooled ReLU outputs are >= 0)", items[i].Path, v)
			}
			sum += float64(v)
		}
		if sum == 0 {
			t.Errorf("%s: all-zero features", items[i].Path)
		}
	}
	if n, _, _ := cache.Stats(); n != len(items)-1 {
		t.Errorf("cache holds %d entries, want %d", n, len(items)-1)
	}

	// A second run takes everything from the cache, bit for bit, and a
	// batch of one gives the same features as a batch of four.
	again, err := (&Extractor{Session: s, Backbone: "test", Cache: cache, Batch: 1}).Extract(context.Background(), items, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.FromCache != len(items)-1 {
		t.Errorf("second run took %d from the cache, want %d", again.FromCache, len(items)-1)
	}
	for i := range res.Features {
		if res.Features[i] != again.Features[i] {
			t.Fatalf("cached value %d differs", i)
		}
	}
	fresh, err := (&Extractor{Session: s, Batch: 1}).Extract(context.Background(), items[:3], nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range fresh.Features {
		if d := math.Abs(float64(fresh.Features[i] - res.Features[i])); d > 1e-4 {
			t.Fatalf("batch 1 vs batch 4: value %d differs by %g", i, d)
		}
	}
}

// TestExtractCancel cancels after the first batch of 8 of the 148 photos:
// no photo goes through the backbone after that, and Extract returns
// context.Canceled rather than a partial result.
func TestExtractCancel(t *testing.T) {
	s := session(t)
	items := photos(t, "pets", 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancelledAt, done := 0, 0
	_, err := (&Extractor{Session: s, Batch: 8}).Extract(ctx, items, func(p Progress) {
		done = p.Done
		if p.Done >= 8 && cancelledAt == 0 {
			cancelledAt = p.Done
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if cancelledAt == 0 || cancelledAt >= len(items) {
		t.Fatalf("cancelled after %d of %d photos; the test needs a cancel mid-run", cancelledAt, len(items))
	}
	if done != cancelledAt {
		t.Errorf("%d photos done after cancelling at %d", done, cancelledAt)
	}
}

func TestCacheCorruptEntry(t *testing.T) {
	c, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k := Key{Backbone: "b", Photo: sha256.Sum256([]byte("x"))}
	v := []float32{1, 2, 3}
	if err := c.Put(k, v); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(k)
	if !ok || len(got) != 3 || got[2] != 3 {
		t.Fatalf("Get = %v, %v", got, ok)
	}
	tests := []struct {
		name   string
		mangle func([]byte) []byte
	}{
		{"flipped bit", func(b []byte) []byte { b[9] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }},
		{"empty", func(b []byte) []byte { return nil }},
		{"wrong magic", func(b []byte) []byte { b[0] = 'X'; return b }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Put(k, v); err != nil {
				t.Fatal(err)
			}
			p := c.path(k, ".f32")
			data, _ := os.ReadFile(p)
			if err := os.WriteFile(p, tt.mangle(data), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, ok := c.Get(k); ok {
				t.Fatal("corrupt entry was trusted")
			}
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Error("corrupt entry was not removed")
			}
		})
	}
	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := c.Stats(); n != 0 {
		t.Errorf("%d entries after Clear", n)
	}
}

// BenchmarkExtract measures end-to-end images/s from photo files (decoding,
// resizing and inference, no cache).
func BenchmarkExtract(b *testing.B) {
	s := session(b)
	items := append(photos(b, "pets", 0), photos(b, "flowers", 0)...)
	for _, batch := range []int{8, 16, 32} {
		b.Run("batch"+strconv.Itoa(batch), func(b *testing.B) {
			e := &Extractor{Session: s, Batch: batch}
			n := 0
			for b.Loop() {
				if _, err := e.Extract(context.Background(), items, nil); err != nil {
					b.Fatal(err)
				}
				n += len(items)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// TestExtractFixedBatch fills the short last batch up with blank photos:
// the vectors of the real ones are those of a short batch, and the blanks'
// are dropped.
func TestExtractFixedBatch(t *testing.T) {
	s := session(t)
	items := photos(t, "flowers", 6) // batches of 4: the last has 2
	ctx := context.Background()
	short, err := (&Extractor{Session: s, Batch: 4}).Extract(ctx, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	var last Progress
	fixed, err := (&Extractor{Session: s, Batch: 4, FixedBatch: true}).Extract(ctx, items, func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if len(fixed.Features) != len(items)*Dim || last.Done != len(items) {
		t.Fatalf("%d values, %d photos done; want %d photos", len(fixed.Features), last.Done, len(items))
	}
	for i := range short.Features {
		if d := math.Abs(float64(short.Features[i] - fixed.Features[i])); d > 1e-4 {
			t.Fatalf("photo %d: value %d differs by %g", i/Dim, i%Dim, d)
		}
	}
}
