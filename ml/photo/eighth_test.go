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
// libjpeg-turbo's pixels to the byte, and unless the loader's path (which
// tries decodeEighth first) ends as libjpeg-turbo alone does. It reports
// whether decodeEighth took the file.
func eighthMatches(t *testing.T, name string, data []byte) bool {
	t.Helper()
	got, ok := decodeEighth(data)
	want, err := turboDecodeWith(data, 1, false) // minSide 1: the 1/8 scale
	// The loader's path gives libjpeg-turbo's result either way: what
	// decodeEighth declines, libjpeg-turbo decodes or refuses as before.
	if auto, aerr := turboDecodeWith(data, 1, true); (aerr == nil) != (err == nil) ||
		aerr != nil && aerr.Error() != err.Error() || aerr == nil && !bytes.Equal(auto.Pix, want.Pix) {
		t.Errorf("%s: the loader's path gives %v, libjpeg-turbo alone %v (or other pixels)", name, aerr, err)
	}
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

// TestEighthExtremeQuantisation checks the arithmetic where values leave
// their ranges: with the chroma's quantisation steps at 255, dequantised
// coefficients overflow 16 bits and samples leave [0, 255], which
// libjpeg-turbo's SIMD inverse DCT saturates (and its C code would wrap).
func TestEighthExtremeQuantisation(t *testing.T) {
	for _, name := range []string{"optimized.jpg", "restart1.jpg"} {
		data := bytes.Clone(readTestdata(t, filepath.Join("eighth", name)))
		// The second DQT table is the chroma's: set its DC and lowest
		// AC steps to 255.
		i := bytes.Index(data, []byte{0xFF, 0xDB})
		j := i + 2 + int(data[i+2])<<8 + int(data[i+3])
		if data[j] != 0xFF || data[j+1] != 0xDB || data[j+4] != 1 {
			t.Fatalf("%s: no second quantisation table at %d", name, j)
		}
		for k := range 4 {
			data[j+5+k] = 255
		}
		if !eighthMatches(t, name, data) {
			t.Errorf("%s with extreme steps: not taken", name)
		}
	}
}

// TestEighthDeclinesDamage checks that damaged files are left to
// libjpeg-turbo, which reports them: cut short anywhere in the scan; and
// that files with bytes changed anywhere are declined or decoded as
// libjpeg-turbo decodes them.
func TestEighthDeclinesDamage(t *testing.T) {
	for _, name := range []string{"restart1.jpg", "optimized.jpg", "s444-restart.jpg", "flowers"} {
		var data []byte
		if name == "flowers" {
			var err error
			if data, err = os.ReadFile(flowersPhoto); err != nil {
				t.Fatal(err)
			}
		} else {
			data = readTestdata(t, filepath.Join("eighth", name))
		}
		for _, n := range []int{len(data) - 2, len(data) - 100, len(data) / 2, 700} {
			if _, ok := decodeEighth(data[:n]); ok {
				t.Errorf("%s cut to %d bytes: decoded", name, n)
			}
		}
		// Changed bytes: either declined, or libjpeg-turbo's pixels;
		// never a read out of bounds (eighth does not recover).
		// Half the changes fall in the first 700 bytes: the tables.
		rng := rand.New(rand.NewPCG(22, uint64(len(data))))
		for range 500 {
			d := bytes.Clone(data)
			for range 1 + rng.IntN(4) {
				at := rng.IntN(len(d))
				if rng.IntN(2) == 0 {
					at = rng.IntN(min(700, len(d)))
				}
				d[at] = []byte{0x00, 0xFF, byte(rng.IntN(256))}[rng.IntN(3)]
			}
			eighth(d)
			eighthMatches(t, name, d)
		}
	}
}

// FuzzEighth feeds arbitrary bytes to the eighth-scale decoder, without
// its recovery from panics: it must not panic, loop or allocate beyond
// the file's size, and what it decodes must be libjpeg-turbo's pixels.
// Seeds: baseline 4:2:0 and 4:4:4 files with and without restart markers,
// and damaged ones (cut short, a Huffman table's counts changed, restart
// markers out of order, huge dimensions).
func FuzzEighth(f *testing.F) {
	var seeds [][]byte
	for _, name := range []string{"restart1.jpg", "s444-restart.jpg", "optimized.jpg"} {
		seeds = append(seeds, readTestdata(f, filepath.Join("eighth", name)))
	}
	small, err := os.ReadFile(flowersPhoto) // 4:2:0, no restart markers
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, small)
	for _, s := range append([][]byte(nil), seeds...) {
		seeds = append(seeds, s[:len(s)/2])
		if i := bytes.Index(s, []byte{0xFF, 0xC4}); i >= 0 {
			d := bytes.Clone(s)
			d[i+5] ^= 0x03 // a code count of the first table
			seeds = append(seeds, d)
		}
		if i := bytes.Index(s, []byte{0xFF, 0xD0}); i >= 0 {
			d := bytes.Clone(s)
			d[i+1] = 0xD3
			seeds = append(seeds, d)
		}
		if i := bytes.Index(s, []byte{0xFF, 0xC0}); i >= 0 {
			d := bytes.Clone(s)
			d[i+5], d[i+6], d[i+7], d[i+8] = 0xFF, 0xFF, 0xFF, 0xFF
			seeds = append(seeds, d)
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := allocated(func() { eighth(data) })
		// The decoder's tables and planes of at most 12 bytes a byte of
		// data (2 bits a block, 3 samples a block), its scan copy.
		if bound := uint64(16*len(data)) + 1<<20; n > bound {
			t.Errorf("%d bytes allocated %d, more than %d", len(data), n, bound)
		}
		eighthMatches(t, "fuzzed", data)
	})
}
