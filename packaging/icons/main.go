// Command icons renders the application icon at the sizes packages want:
// PNGs for the freedesktop hicolor theme and a Windows .ico. It is run by
// `make dist`, so that no image tool is needed.
//
//	go run ./packaging/icons -src resources/icon.png -hicolor DIR -name io.github.clasifica -ico FILE.ico
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"
)

var (
	hicolorSizes = []int{16, 22, 24, 32, 48, 64, 128, 256, 512}
	icoSizes     = []int{16, 20, 24, 32, 40, 48, 64, 256}
)

func main() {
	src := flag.String("src", "resources/icon.png", "the icon as a large square PNG")
	hicolor := flag.String("hicolor", "", "write DIR/<n>x<n>/apps/NAME.png for the hicolor theme")
	name := flag.String("name", "io.github.clasifica", "the icon's name in the hicolor theme")
	ico := flag.String("ico", "", "write a Windows icon file")
	flag.Parse()
	if err := run(*src, *hicolor, *name, *ico); err != nil {
		fmt.Fprintln(os.Stderr, "icons:", err)
		os.Exit(1)
	}
}

func run(src, hicolor, name, ico string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return fmt.Errorf("decode %s: %w", src, err)
	}
	if hicolor != "" {
		for _, n := range hicolorSizes {
			p := filepath.Join(hicolor, fmt.Sprintf("%dx%d", n, n), "apps", name+".png")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			b, err := encode(img, n)
			if err != nil {
				return err
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return err
			}
		}
	}
	if ico != "" {
		b, err := icoFile(img)
		if err != nil {
			return err
		}
		if err := os.WriteFile(ico, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// encode returns img scaled to n×n as a PNG.
func encode(img image.Image, n int) ([]byte, error) {
	dst := image.NewNRGBA(image.Rect(0, 0, n, n))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	err := png.Encode(&buf, dst)
	return buf.Bytes(), err
}

// icoFile returns an .ico holding PNG-compressed images (Windows Vista and
// later read those), one per size in icoSizes.
func icoFile(img image.Image) ([]byte, error) {
	var pngs [][]byte
	for _, n := range icoSizes {
		b, err := encode(img, n)
		if err != nil {
			return nil, err
		}
		pngs = append(pngs, b)
	}
	var buf bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&buf, le, [3]uint16{0, 1, uint16(len(pngs))}) // reserved, type 1 = icon, count
	offset := 6 + 16*len(pngs)
	for i, n := range icoSizes {
		side := uint8(n)
		if n >= 256 {
			side = 0 // 0 means 256
		}
		binary.Write(&buf, le, struct {
			W, H, Colors, Reserved uint8
			Planes, Bits           uint16
			Size, Offset           uint32
		}{side, side, 0, 0, 1, 32, uint32(len(pngs[i])), uint32(offset)})
		offset += len(pngs[i])
	}
	for _, b := range pngs {
		buf.Write(b)
	}
	return buf.Bytes(), nil
}
