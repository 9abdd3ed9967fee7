package photo

import (
	"os"
	"testing"
)

func BenchmarkLoadFile(b *testing.B) {
	for _, bc := range []struct{ name, path string }{{"pets", petsPhoto}, {"flowers", flowersPhoto}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := LoadFile(bc.path, 299, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeFile is the decoding part of BenchmarkLoadFile: Go's JPEG
// decoder, which this package does not control.
func BenchmarkDecodeFile(b *testing.B) {
	for _, bc := range []struct{ name, path string }{{"pets", petsPhoto}, {"flowers", flowersPhoto}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := DecodeFile(bc.path, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkResize is the part of BenchmarkLoadFile after decoding: colour
// conversion and resampling to 299x299.
func BenchmarkResize(b *testing.B) {
	for _, bc := range []struct{ name, path string }{{"pets", petsPhoto}, {"flowers", flowersPhoto}} {
		m, _, err := DecodeFile(bc.path, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Resize(m, 299, 299)
			}
		})
	}
}

func BenchmarkAppendFloat32(b *testing.B) {
	p := &RGB{Width: 299, Height: 299, Pix: make([]uint8, 3*299*299)}
	dst := make([]float32, 0, len(p.Pix))
	b.ReportAllocs()
	for b.Loop() {
		dst = p.AppendFloat32(dst[:0], 2.0/255, -1)
	}
}

// BenchmarkLoadJPEG compares the JPEG decoders of LoadFile on a 500×375
// sample photo and, when CLASIFICA_LARGE_PHOTO names one (made by
// tools/largephotos), on a 12-megapixel photo.
func BenchmarkLoadJPEG(b *testing.B) {
	files := []struct{ name, path string }{{"500x375", petsPhoto}}
	if p := os.Getenv("CLASIFICA_LARGE_PHOTO"); p != "" {
		files = append(files, struct{ name, path string }{"12MP", p})
	}
	for _, f := range files {
		for _, d := range []JPEGDecoder{JPEGGo, JPEGAuto} {
			b.Run(f.name+"/"+d.String(), func(b *testing.B) {
				for b.Loop() {
					if _, err := LoadFile(f.path, 299, Limits{JPEG: d}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
