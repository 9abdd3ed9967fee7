package probes

import (
	"bytes"
	"image"
	_ "image/jpeg"
	"os"
	"testing"
)

// TestAll: four probe photos of different things that decode, are the
// same every time (their features are cached by content), and stay small.
func TestAll(t *testing.T) {
	all := All()
	if len(all) != 4 {
		t.Fatalf("%d probe photos, want 4", len(all))
	}
	total := 0
	seen := map[[32]byte]string{}
	for _, p := range all {
		total += len(p.Data)
		if _, _, err := image.Decode(bytes.NewReader(p.Data)); err != nil {
			t.Errorf("%s (%s): %v", p.File, p.Name, err)
		}
		if other, ok := seen[p.Hash()]; ok {
			t.Errorf("%s and %s are the same photo", p.File, other)
		}
		seen[p.Hash()] = p.File
	}
	if total > 1<<20 {
		t.Errorf("the probe photos take %d bytes, more than 1 MB", total)
	}
	if again := All(); again[3].Hash() != all[3].Hash() {
		t.Error("the page of text is drawn differently each time")
	}
	_, paths, err := Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		if data, err := os.ReadFile(p); err != nil || !bytes.Equal(data, all[i].Data) {
			t.Errorf("%s: %v", p, err)
		}
	}
	t.Logf("%d bytes in all", total)
}
