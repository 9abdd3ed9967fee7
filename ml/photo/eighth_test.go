//go:build linux && cgo && !noturbojpeg

package photo

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eighthMatches decodes data at 1/8 scale with decodeEighth and with
// libjpeg-turbo, and fails unless decodeEighth either declines or gives
// libjpeg-turbo's pixels to the byte. It reports whether it took the file.
func eighthMatches(t *testing.T, name string, data []byte) bool {
	t.Helper()
	got, ok := decodeEighth(data)
	want, err := turboDecodeWith(data, 1, false) // minSide 1: the 1/8 scale
	if !ok {
		return false
	}
	if err != nil {
		t.Errorf("%s: decoded at 1/8, but libjpeg-turbo fails: %v", name, err)
		return true
	}
	if got.Width != want.Width || got.Height != want.Height {
		t.Errorf("%s: %dx%d, libjpeg-turbo %dx%d", name, got.Width, got.Height, want.Width, want.Height)
		return true
	}
	if !bytes.Equal(got.Pix, want.Pix) {
		diff, first := 0, -1
		for i := range got.Pix {
			if got.Pix[i] != want.Pix[i] {
				if diff++; first < 0 {
					first = i
				}
			}
		}
		t.Errorf("%s: %d of %d samples differ from libjpeg-turbo's, the first at pixel (%d, %d): %d, want %d",
			name, diff, len(got.Pix), first/3%got.Width, first/3/got.Width, got.Pix[first], want.Pix[first])
	}
	return true
}

// TestEighthMatchesTurbo checks the eighth-scale decoder against
// libjpeg-turbo on every sample photo (JPEGs from many cameras and
// programs) and on files with restart markers, 4:4:4 and optimised
// tables; TestEighthLarge on 12-megapixel photos.
func TestEighthMatchesTurbo(t *testing.T) {
	taken, total := 0, 0
	for _, dir := range []string{petsDir, flowersDir} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.EqualFold(filepath.Ext(p), ".jpg") {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			total++
			if eighthMatches(t, p, data) {
				taken++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Most sample photos are 4:2:0 or 4:4:4 baseline JPEGs.
	if taken < total*3/4 {
		t.Errorf("the eighth-scale decoder took %d of %d sample photos, want most", taken, total)
	}
	t.Logf("took %d of %d sample photos", taken, total)

	for _, c := range []struct {
		name string
		take bool
	}{{"restart1.jpg", true}, {"s444-restart.jpg", true}, {"optimized.jpg", true}, {"s422.jpg", false}, {"rgb.jpg", false}, {"progressive.jpg", false}, {"cmyk.jpg", false}, {"ycck.jpg", false}} {
		name := filepath.Join("eighth", c.name)
		if !c.take && c.name != "s422.jpg" && c.name != "rgb.jpg" {
			name = c.name // the package's fixtures
		}
		data := readTestdata(t, name)
		if took := eighthMatches(t, c.name, data); took != c.take {
			t.Errorf("%s: taken %v, want %v", c.name, took, c.take)
		}
	}
}

// TestEighthDeclinesHeaderWarnings checks that files whose headers
// libjpeg-turbo warns of (and so, stopping on warnings, refuses) are left
// to it: a JFIF version other than 1, an Adobe transform other than YCbCr.
func TestEighthDeclinesHeaderWarnings(t *testing.T) {
	data := readTestdata(t, filepath.Join("eighth", "restart1.jpg"))
	if _, ok := decodeEighth(data); !ok {
		t.Fatal("restart1.jpg: not taken")
	}
	i := bytes.Index(data, []byte("JFIF\x00"))
	if i < 0 {
		t.Fatal("restart1.jpg has no JFIF marker")
	}
	d := bytes.Clone(data)
	d[i+5] = 2
	if _, ok := decodeEighth(d); ok {
		t.Error("JFIF version 2: taken")
	}
	if _, err := turboDecodeWith(d, 1, false); err == nil {
		t.Error("JFIF version 2: libjpeg-turbo decodes it, so the decoder could too")
	}
	// An Adobe segment with transform 2 (YCCK, for 3 components a
	// warning) after the JFIF one.
	adobe := []byte{0xFF, 0xEE, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 2}
	j := 4 + int(data[4])<<8 + int(data[5]) // after SOI and APP0
	d = append(append(bytes.Clone(data[:j]), adobe...), data[j:]...)
	if _, ok := decodeEighth(d); ok {
		t.Error("Adobe transform 2: taken")
	}
}

// TestEighthDeclinesDamage checks that damaged files are left to
// libjpeg-turbo, which reports them: cut short anywhere in the scan; and
// that files with bytes changed anywhere are declined or decoded as
// libjpeg-turbo decodes them.
func TestEighthDeclinesDamage(t *testing.T) {
	for _, name := range []string{"restart1.jpg", "optimized.jpg"} {
		data := readTestdata(t, filepath.Join("eighth", name))
		for _, n := range []int{len(data) - 2, len(data) - 100, len(data) / 2, 700} {
			if _, ok := decodeEighth(data[:n]); ok {
				t.Errorf("%s cut to %d bytes: decoded", name, n)
			}
		}
		// Changed bytes: either declined, or libjpeg-turbo's pixels;
		// never a read out of bounds (eighth does not recover).
		rng := rand.New(rand.NewPCG(22, uint64(len(data))))
		for range 300 {
			d := bytes.Clone(data)
			for range 1 + rng.IntN(3) {
				d[rng.IntN(len(d))] = []byte{0x00, 0xFF, byte(rng.IntN(256))}[rng.IntN(3)]
			}
			eighth(d)
			eighthMatches(t, name, d)
		}
	}
}
