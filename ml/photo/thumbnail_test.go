package photo

import (
	"encoding/binary"
	"image"
	"os"
	"testing"
)

// TestLoadThumbnail compares LoadThumbnail with Thumbnail of DecodeFile's
// image (what previews were before): the same size and orientation, the
// same pixels with Go's decoder bar rounding, and close pixels with the
// scaled decoder.
func TestLoadThumbnail(t *testing.T) {
	pet, _, err := DecodeFile(petsPhoto, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	big := encodeJPEG(t, Resize(pet, 2400, 1800))
	q := quadrants(1600, 1200)
	cases := []struct {
		name string
		path string
		// scaled: libjpeg-turbo decodes it at a reduced scale where
		// built in.
		scaled bool
	}{
		{"500×375 sample", petsPhoto, false},
		{"2400×1800 JPEG", writeFile(t, "big.jpg", big), true},
		{"2400×1800 JPEG turned by EXIF", writeFile(t, "turned.jpg", withJPEGExif(big, 6, binary.BigEndian)), true},
		{"quadrants JPEG mirrored by EXIF", writeFile(t, "quadrants.jpg", withJPEGExif(encodeJPEG(t, q), 2, binary.LittleEndian)), true},
		{"progressive JPEG", "testdata/progressive.jpg", false},
		{"CMYK JPEG", "testdata/cmyk.jpg", false},
		{"PNG", writeFile(t, "q.png", encodePNG(t, q)), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := DecodeFile(tc.path, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			want := Thumbnail(m, 256)
			for _, d := range []JPEGDecoder{JPEGGo, JPEGAuto} {
				got, err := LoadThumbnail(tc.path, 256, Limits{JPEG: d})
				if err != nil {
					t.Fatalf("%s: %v", d, err)
				}
				if got.Bounds() != want.Bounds() {
					t.Fatalf("%s: thumbnail of %v, want %v", d, got.Bounds(), want.Bounds())
				}
				mean, worst := pixelDiff(got, want)
				t.Logf("%s: mean difference %.3f, largest %d", d, mean, worst)
				// Go's decoder: the same picture, shrunk before
				// turning rather than after (rounding between the
				// filter's passes). The scaled decoder: its own
				// upsampling of chroma and its DCT scaling.
				limit := 0.5
				if d == JPEGAuto && tc.scaled {
					limit = 3
				}
				if mean > limit {
					t.Errorf("%s: mean difference %.3f from the full decode's thumbnail, want ≤ %v", d, mean, limit)
				}
				if qc := quadrantColors(got); tc.name == "quadrants JPEG mirrored by EXIF" &&
					!(near(qc[0], green, 40) && near(qc[1], red, 40) && near(qc[2], black, 40) && near(qc[3], blue, 40)) {
					t.Errorf("%s: mirrored quadrants %v", d, qc)
				}
			}
		})
	}
	if _, err := LoadThumbnail("testdata/missing.jpg", 256, Limits{}); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("a missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// pixelDiff returns the mean and the largest absolute difference of two
// RGBA pictures of the same size, over the colour channels.
func pixelDiff(a, b *image.RGBA) (float64, int) {
	var sum, n, worst int
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			i, j := a.PixOffset(x, y), b.PixOffset(x, y)
			for c := range 3 {
				d := int(a.Pix[i+c]) - int(b.Pix[j+c])
				d = max(d, -d)
				sum += d
				worst = max(worst, d)
				n++
			}
		}
	}
	return float64(sum) / float64(n), worst
}

// BenchmarkLoadThumbnail compares a 256-pixel preview with Go's decoder
// (DecodeFile at full size, then Thumbnail: previews before) and with
// LoadThumbnail's scaled decoding, on a 500×375 sample photo and, when
// CLASIFICA_LARGE_PHOTO names one (made by tools/largephotos), on a
// 12-megapixel photo.
func BenchmarkLoadThumbnail(b *testing.B) {
	files := []struct{ name, path string }{{"500x375", petsPhoto}}
	if p := os.Getenv("CLASIFICA_LARGE_PHOTO"); p != "" {
		files = append(files, struct{ name, path string }{"12MP", p})
	}
	for _, f := range files {
		b.Run(f.name+"/before", func(b *testing.B) {
			for b.Loop() {
				m, _, err := DecodeFile(f.path, Limits{})
				if err != nil {
					b.Fatal(err)
				}
				Thumbnail(m, 256)
			}
		})
		b.Run(f.name+"/auto", func(b *testing.B) {
			for b.Loop() {
				if _, err := LoadThumbnail(f.path, 256, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
