package decisions

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clasifica/clasifica/ml/dataset"
)

var now = time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC)

func photo(name, label, scheme string) Photo {
	return Photo{Hash: sha256.Sum256([]byte(name)), Path: "dir/" + name, Label: label, Scheme: scheme}
}

func TestRoundTripAndDecide(t *testing.T) {
	s := New("/photos")
	a := photo("a.jpg", "cat", SchemeFolder)
	b := photo("b.jpg", "Bengal", SchemeBreed)
	c := photo("c.jpg", "dog", SchemeFolder)
	if err := s.Relabel(a, "dog", now); err != nil {
		t.Fatal(err)
	}
	if err := s.Relabel(b, "Persian", now); err != nil {
		t.Fatal(err)
	}
	s.SetLeaveOut(c, true, now)
	val := dataset.Validation
	s.ForceSplit(c, &val, now)
	s.SetRight(photo("d.jpg", "cat", SchemeFolder), true, now)
	s.SetOrigin(photo("e.jpg", "cat", SchemeFolder), "/elsewhere/e.jpg", now)

	var buf bytes.Buffer
	if err := s.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := Decode(&buf)
	if err != nil {
		t.Fatalf("Decode(Encode(s)): %v", err)
	}
	if r.Len() != 5 || r.Root != "/photos" {
		t.Fatalf("decoded %d records of %q, want 5 of /photos", r.Len(), r.Root)
	}
	tests := []struct {
		name   string
		h      [32]byte
		layout dataset.Layout
		g      dataset.Granularity
		want   dataset.Decision
		ok     bool
	}{
		{"folder override", a.Hash, dataset.ClassFolders, dataset.Breed, dataset.Decision{Label: "dog"}, true},
		{"folder override, split layout", a.Hash, dataset.SplitFolders, dataset.Species, dataset.Decision{Label: "dog"}, true},
		{"folder override does not label pets", a.Hash, dataset.OxfordPets, dataset.Breed, dataset.Decision{}, false},
		{"breed override", b.Hash, dataset.OxfordPets, dataset.Breed, dataset.Decision{Label: "Persian"}, true},
		{"breed override, by species", b.Hash, dataset.OxfordPets, dataset.Species, dataset.Decision{}, false},
		{"left out in validation", c.Hash, dataset.ClassFolders, dataset.Breed, dataset.Decision{LeaveOut: true, Split: dataset.Validation, Forced: true}, true},
		{"it's right changes no scan", sha256.Sum256([]byte("d.jpg")), dataset.ClassFolders, dataset.Breed, dataset.Decision{}, false},
		{"unknown", sha256.Sum256([]byte("z")), dataset.ClassFolders, dataset.Breed, dataset.Decision{}, false},
	}
	for _, tc := range tests {
		got, ok := r.Decide(tc.h, tc.layout, tc.g)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: Decide = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if !r.Right(sha256.Sum256([]byte("d.jpg"))) || r.Right(a.Hash) {
		t.Error("Right does not survive the round trip")
	}

	// Relabelling to the folder's class undoes; a record deciding nothing
	// goes away.
	if err := r.Relabel(a, "cat", now); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Get(a.Hash); ok {
		t.Error("relabelling a photo to its folder's class left a record")
	}
	if !r.Forget(c.Hash) || r.Forget(c.Hash) {
		t.Error("Forget reports wrongly whether there was a record")
	}
	for _, bad := range []string{"", "  ", "a/b", `a\b`, "..", "\xff"} {
		if err := r.Relabel(b, bad, now); err == nil {
			t.Errorf("Relabel to %q: no error", bad)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	h := strings.Repeat("ab", 32)
	tests := []struct {
		name, file string
		version    int
	}{
		{"not JSON", "{\"version\":1, \"photos\": [", 0},
		{"empty", "", 0},
		{"later version", `{"version":2,"root":"/p","photos":[{"sha256":"` + h + `","path":"a","future":1}]}`, 2},
		{"no version", `{"root":"/p","photos":[]}`, 0},
		{"bad hash", `{"version":1,"root":"/p","photos":[{"sha256":"xyz","path":"a"}]}`, 1},
		{"unknown field", `{"version":1,"root":"/p","photos":[{"sha256":"` + h + `","path":"a","colour":"red"}]}`, 1},
		{"unknown scheme", `{"version":1,"root":"/p","photos":[{"sha256":"` + h + `","path":"a","override":{"mood":"x"}}]}`, 1},
		{"twice", `{"version":1,"root":"/p","photos":[{"sha256":"` + h + `","path":"a"},{"sha256":"` + h + `","path":"b"}]}`, 1},
	}
	for _, tc := range tests {
		_, err := Decode(strings.NewReader(tc.file))
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want a *FormatError", tc.name, err)
			continue
		}
		if fe.Version != tc.version {
			t.Errorf("%s: version %d, want %d (%v)", tc.name, fe.Version, tc.version, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"version":1,"root":"/p","photos":[{"sha256":"` + strings.Repeat("ab", 32) + `","path":"a","override":{"folder":"dog"},"split":"test"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := s.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(&buf); err != nil {
			t.Fatalf("a decoded store does not decode after encoding: %v", err)
		}
	})
}

// BenchmarkRoundTrip writes and reads a record of 10,000 decided photos,
// the size of a large folder where every photo was looked at.
func BenchmarkRoundTrip(b *testing.B) {
	s := New("/photos")
	for i := range 10000 {
		p := photo(strings.Repeat("x", i%7)+string(rune('a'+i%26))+fmt.Sprint(i), "cat", SchemeFolder)
		if err := s.Relabel(p, "dog", now); err != nil {
			b.Fatal(err)
		}
	}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := s.Encode(&buf); err != nil {
			b.Fatal(err)
		}
		if _, err := Decode(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "file-bytes")
}

// AddNearCopies adds pairs to those recorded, whichever way round a pair
// is named, and never drops one.
func TestAddNearCopies(t *testing.T) {
	h := func(b byte) string { return strings.Repeat(fmt.Sprintf("%02x", b), 32) }
	s := New("/photos")
	if err := s.AddNearCopies([]Pair{{SHA256: [2]string{h(1), h(2)}, Similarity: 0.8}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddNearCopies([]Pair{{SHA256: [2]string{h(2), h(1)}, Similarity: 0.9}, {SHA256: [2]string{h(3), h(4)}, Similarity: 0.7}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddNearCopies(nil); err != nil {
		t.Fatal(err)
	}
	got := s.Pairs()
	if len(got) != 2 || got[0].Similarity != 0.9 || got[1].SHA256 != [2]string{h(3), h(4)} || len(s.NearCopies()) != 2 {
		t.Errorf("pairs %+v", got)
	}
	if err := s.AddNearCopies([]Pair{{SHA256: [2]string{"nothex", h(1)}}}); err == nil {
		t.Error("a pair with a bad hash was recorded")
	}
}
