package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
)

// Two Clasificas keeping measurements in one cache file (two caches: each
// read the file before the other wrote) keep both's, in turn or at once;
// a re-measurement replaces the old one.
func TestJSONCacheKeepsOtherProcessesMeasurements(t *testing.T) {
	for _, tc := range []struct {
		name string
		put  func(t *testing.T, a, b *jsonCache[speed], each int)
	}{
		{"in turn", func(_ *testing.T, a, b *jsonCache[speed], each int) {
			for k := range each {
				a.put(fmt.Sprint("a", k), speed{SecondsPerPhoto: float64(k)})
				b.put(fmt.Sprint("b", k), speed{SecondsPerPhoto: float64(k)})
			}
		}},
		{"at once", func(t *testing.T, a, b *jsonCache[speed], each int) {
			caches := []*jsonCache[speed]{a, b}
			mltest.AtOnce(t, len(caches), func(i int) error {
				for k := range each {
					caches[i].put(fmt.Sprint("ab"[i:i+1], k), speed{SecondsPerPhoto: float64(k)})
				}
				return nil
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "cache", "speeds.json")
			a, b := &speeds{file: file}, &speeds{file: file}
			// Both read the (missing) file first, as two running
			// Clasificas have.
			a.get("x")
			b.get("x")
			const each = 20
			tc.put(t, a, b, each)
			a.put("a0", speed{SecondsPerPhoto: 100}) // measured again
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]speed
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			missing := 0
			for _, p := range []string{"a", "b"} {
				for k := range each {
					if _, ok := got[fmt.Sprint(p, k)]; !ok {
						missing++
					}
				}
			}
			if missing > 0 || len(got) != 2*each {
				t.Errorf("%d of %d measurements lost; the file holds %d", missing, 2*each, len(got))
			}
			if got["a0"].SecondsPerPhoto != 100 {
				t.Errorf("a re-measurement was not kept: %+v", got["a0"])
			}
			// The other cache sees it once it writes.
			b.put("b0", speed{SecondsPerPhoto: 7})
			if v, _ := b.get("a0"); v.SecondsPerPhoto != 100 {
				t.Errorf("the other cache holds %+v for a0 after its own put, want the re-measurement", v)
			}
		})
	}
}

// Two Clasificas saving provider probes of different libraries at once
// keep both.
func TestProviderCacheKeepsOtherProcessesProbes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cache", "providers.json")
	caches := []*providerCache{{mem: map[string][]ProviderStatus{}, file: file}, {mem: map[string][]ProviderStatus{}, file: file}}
	const each = 20
	mltest.AtOnce(t, len(caches), func(i int) error {
		for k := range each {
			caches[i].put(fmt.Sprintf("lib%d-%d", i, k), []ProviderStatus{{}})
		}
		return nil
	})
	fresh := &providerCache{mem: map[string][]ProviderStatus{}, file: file}
	for i := range caches {
		for k := range each {
			if _, ok := fresh.get(fmt.Sprintf("lib%d-%d", i, k)); !ok {
				t.Errorf("probe lib%d-%d was lost", i, k)
			}
		}
	}
}
