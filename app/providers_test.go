package app

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// TestProvidersAgree runs the backbone on every provider this machine
// offers and checks that each computes the CPU's features of the sample
// photos (relative L2 distance at most 1e-3), that Automatic picks the
// first available provider in its order and names every one it skipped
// with the reason. On a CPU-only machine that means: the CPU is chosen,
// and each accelerator is reported unavailable, with why.
func TestProvidersAgree(t *testing.T) {
	a := enginesTestApp(t)
	lib := mltest.RuntimeLibrary(t)
	provs, err := a.Providers(lib, false)
	if err != nil {
		t.Fatal(err)
	}
	order := onnxrt.AutoOrder(runtime.GOOS)
	if len(provs) != len(order) {
		t.Fatalf("providers %+v, want one status for each of %v", provs, order)
	}
	first := onnxrt.Provider("")
	for i, st := range provs {
		if st.Provider != order[i] || st.Name == "" {
			t.Errorf("provider %d: %+v, want %s", i, st, order[i])
		}
		if st.Available == (st.Reason != "") {
			t.Errorf("%s: available %v with reason %q: an unavailable provider must say why, an available one must not", st.Provider, st.Available, st.Reason)
		}
		if st.Available && first == "" {
			first = st.Provider
		}
		if !st.Available {
			// tools/gpu-check.sh reads these lines.
			t.Logf("unavailable %s: %s", st.Provider, st.Reason)
		}
	}
	if first == "" || !provs[len(provs)-1].Available {
		t.Fatal("the CPU is not available")
	}

	// Automatic runs on the first available provider and says why it
	// skipped the others before it.
	auto, err := a.OpenEngine(context.Background(), EngineOptions{Runtime: lib, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer auto.Close()
	ro := auto.RunsOn()
	if ro.Provider != first || ro.Requested != onnxrt.Auto || ro.Name == "" {
		t.Errorf("Automatic runs on %+v, want %s", ro, first)
	}
	var skipped []onnxrt.Provider
	for _, s := range ro.Skipped {
		skipped = append(skipped, s.Provider)
		if s.Reason == "" {
			t.Errorf("Automatic skipped %s without a reason", s.Provider)
		}
	}
	if want := order[:slices.Index(order, first)]; !slices.Equal(skipped, want) {
		t.Errorf("Automatic skipped %v, want %v", skipped, want)
	}

	// Same answers everywhere.
	items := make([]features.Item, 0, 6)
	for _, p := range sampleFlowers(t, 6) {
		items = append(items, features.Item{Path: p})
	}
	extract := func(eng *Engine) [][]float32 {
		t.Helper()
		res, err := eng.Extractor(false).Extract(context.Background(), items, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows := make([][]float32, len(items))
		for i := range items {
			if res.Errs[i] != nil {
				t.Fatalf("%s: %v", items[i].Path, res.Errs[i])
			}
			rows[i] = res.Row(i)
		}
		return rows
	}
	cpu, err := a.OpenEngine(context.Background(), EngineOptions{Runtime: lib, Provider: onnxrt.CPU, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer cpu.Close()
	want := extract(cpu)
	t.Logf("agree CPU: the reference, on %s", cpu.Device())
	for _, st := range provs {
		if !st.Available || st.Provider == onnxrt.CPU {
			continue
		}
		eng, err := a.OpenEngine(context.Background(), EngineOptions{Runtime: lib, Provider: st.Provider, Strict: true, Threads: 2})
		if err != nil {
			t.Errorf("%s probed available but the backbone cannot open on it: %v", st.Provider, err)
			continue
		}
		if got := eng.RunsOn().Provider; got != st.Provider {
			t.Errorf("asked strictly for %s, runs on %s", st.Provider, got)
		}
		worst := 0.0
		for i, row := range extract(eng) {
			d := onnxrt.RelL2(row, want[i])
			if !(d <= 1e-3) {
				t.Errorf("%s: features of %s differ from the CPU's by %.3g (relative L2), want at most 1e-3", st.Provider, filepath.Base(items[i].Path), d)
			}
			worst = max(worst, d)
		}
		t.Logf("agree %s: max relative L2 %.2g from the CPU over %d photos, on %s", st.Provider, worst, len(items), eng.Device())
		eng.Close()
	}
}

// TestProvidersCached checks that the probe's answer is kept per library
// file, on disk too, so a restarted app does not probe again.
func TestProvidersCached(t *testing.T) {
	a := enginesTestApp(t)
	lib := mltest.RuntimeLibrary(t)
	first, err := a.Providers(lib, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(a.Dirs.Cache, "providers.json")); err != nil {
		t.Fatalf("no cache file: %v", err)
	}
	// A new app over the same folders finds the answer on disk: mark it to
	// tell it apart from a fresh probe.
	b := New(a.Dirs)
	rt, err := LoadRuntime(lib, a.Dirs)
	if err != nil {
		t.Fatal(err)
	}
	marked := slices.Clone(first)
	marked[0].Device = "from the cache"
	b.providers.put(providerKey(rt), marked)
	c := New(a.Dirs)
	got, err := c.Providers(lib, false)
	if err != nil || got[0].Device != "from the cache" {
		t.Errorf("a new app probed again instead of reading the cache: %+v, %v", got, err)
	}
	fresh, err := c.Providers(lib, true)
	if err != nil || fresh[0].Device == "from the cache" || !slices.Equal(fresh, first) {
		t.Errorf("refresh gave %+v (%v), want a new probe equal to %+v", fresh, err, first)
	}
}
