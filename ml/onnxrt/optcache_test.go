package onnxrt

import (
	"context"
	"slices"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
)

// TestCachedSession checks that a CPU session comes from the saved
// optimised graph alone once a session of the same model has saved it,
// computing what the model does, and that nothing else gets one: no
// saved graph yet, another model size under the same key, a provider
// other than the CPU asked for (Auto included), no cache.
func TestCachedSession(t *testing.T) {
	rt, err := Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	model := double(t)
	opt := Options{Provider: CPU, Threads: 1, GraphCache: &GraphCache{Dir: t.TempDir(), Key: "double v1"}}
	if s, ok := rt.CachedSession(len(model), "x", "y", opt); ok {
		s.Close()
		t.Fatal("a session before any graph was saved")
	}
	fresh, err := rt.NewSession(model, "x", "y", opt)
	if err != nil {
		t.Fatal(err)
	}
	fresh.Close()

	s, ok := rt.CachedSession(len(model), "x", "y", opt)
	if !ok {
		t.Fatal("no session from the saved graph")
	}
	defer s.Close()
	if p := s.Placement(); p.Provider != CPU || p.Requested != CPU {
		t.Errorf("placement %+v, want the CPU, asked for", p)
	}
	out, err := s.Run(context.Background(), []float32{1, 2, 3, -1, 0, 0.5}, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{3, 5, 7, -1, 1, 2}; !slices.Equal(out, want) {
		t.Errorf("the saved graph's session computes %v, want %v", out, want)
	}

	for _, c := range []struct {
		what string
		opt  func(o *Options)
	}{
		{"Auto", func(o *Options) { o.Provider = Auto }},
		{"no cache", func(o *Options) { o.GraphCache = nil }},
		{"an empty key", func(o *Options) { o.GraphCache = &GraphCache{Dir: opt.GraphCache.Dir} }},
	} {
		o := opt
		c.opt(&o)
		if s, ok := rt.CachedSession(len(model), "x", "y", o); ok {
			s.Close()
			t.Errorf("%s: a session from the saved graph", c.what)
		}
	}
	if s, ok := rt.CachedSession(len(model)+1, "x", "y", opt); ok {
		s.Close()
		t.Error("a model of another size got the saved graph")
	}
}
