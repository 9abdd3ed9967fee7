package doctor

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
)

func TestPrintsRoundTrip(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data", "fingerprints.bin")
	p, err := OpenPrints(file)
	if err != nil {
		t.Fatal(err)
	}
	want := map[[32]byte]Print{}
	for i := range 50 {
		var h [32]byte
		h[0], h[31] = byte(i), 7
		pr := Print{Whole8: uint64(i) * 0x9E3779B97F4A7C15, Whole16: [4]uint64{uint64(i), 2, 3, 4}, Centre16: [4]uint64{5, uint64(i), 7, 8}}
		p.Put(h, pr)
		want[h] = pr
	}
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	q, err := OpenPrints(file)
	if err != nil {
		t.Fatal(err)
	}
	if q.Len() != len(want) {
		t.Fatalf("read %d prints, wrote %d", q.Len(), len(want))
	}
	for h, pr := range want {
		if got, ok := q.Get(h); !ok || got != pr {
			t.Errorf("print %x: got %+v %v, want %+v", h[:2], got, ok, pr)
		}
	}
	// A damaged file is an empty store (every print can be computed
	// again), replaced by the next save.
	data, _ := os.ReadFile(file)
	data[20] ^= 0xff
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenPrints(file)
	if err != nil || r.Len() != 0 {
		t.Fatalf("damaged file: %d prints, %v", r.Len(), err)
	}
}

// Two processes' stores of one file (both opened before either saved),
// each saving the prints it made, at once: the file keeps all of them.
func TestPrintsKeepOtherStoresPrints(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data", "fingerprints.bin")
	stores := make([]*Prints, 2)
	for i := range stores {
		var err error
		if stores[i], err = OpenPrints(file); err != nil {
			t.Fatal(err)
		}
	}
	const each = 20
	mltest.AtOnce(t, len(stores), func(i int) error {
		for k := range each {
			var h [32]byte
			h[0], h[1] = byte(i), byte(k)
			stores[i].Put(h, Print{Whole8: uint64(i*each + k + 1)})
			if err := stores[i].Save(); err != nil {
				return err
			}
		}
		return nil
	})
	q, err := OpenPrints(file)
	if err != nil {
		t.Fatal(err)
	}
	for i := range stores {
		for k := range each {
			var h [32]byte
			h[0], h[1] = byte(i), byte(k)
			if pr, ok := q.Get(h); !ok || pr.Whole8 != uint64(i*each+k+1) {
				t.Errorf("store %d's print %d: %+v, %v; want it kept", i, k, pr, ok)
			}
		}
	}
}
