// Command icons renders the application icon at the sizes packages want:
// PNGs for the freedesktop hicolor theme, a Windows .ico, and the picture
// beside the Windows setup's welcome and finish pages. It is run by
// `make dist`, so that no image tool is needed.
//
//	go run ./packaging/icons -src resources/icon.png -hicolor DIR -name io.github.clasifica -ico FILE.ico -wizard FILE.bmp
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
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
	wizard := flag.String("wizard", "", "write the Windows setup's welcome and finish page picture (a 164×314 BMP)")
	flag.Parse()
	if err := run(*src, *hicolor, *name, *ico, *wizard); err != nil {
		fmt.Fprintln(os.Stderr, "icons:", err)
		os.Exit(1)
	}
}

func run(src, hicolor, name, ico, wizard string) error {
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
	if wizard != "" {
		if err := os.WriteFile(wizard, bmpFile(wizardImage(img)), 0o644); err != nil {
			return err
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

// The NSIS Modern UI shows a 164×314 picture on the left of its welcome
// and finish pages (MUI_WELCOMEFINISHPAGE_BITMAP); without one, a stock
// picture of a generic installer.
const wizardW, wizardH = 164, 314

// wizardImage draws that picture: the icon on a pale wash of its own blue,
// fading to white where the page's text begins.
func wizardImage(icon image.Image) image.Image {
	dst := image.NewRGBA(image.Rect(0, 0, wizardW, wizardH))
	top, bottom := color.RGBA{0xdc, 0xe6, 0xff, 0xff}, color.RGBA{0xf6, 0xf4, 0xff, 0xff}
	for y := range wizardH {
		t := float64(y) / float64(wizardH-1)
		c := color.RGBA{mix(top.R, bottom.R, t), mix(top.G, bottom.G, t), mix(top.B, bottom.B, t), 0xff}
		for x := range wizardW {
			dst.SetRGBA(x, y, c)
		}
	}
	const side = 120
	at := image.Rect((wizardW-side)/2, 64, (wizardW+side)/2, 64+side)
	draw.CatmullRom.Scale(dst, at, icon, icon.Bounds(), draw.Over, nil)
	return dst
}

func mix(a, b uint8, t float64) uint8 { return uint8(float64(a)*(1-t) + float64(b)*t + 0.5) }

// bmpFile encodes img as a 24-bit Windows bitmap, the format NSIS takes
// for its pictures.
func bmpFile(img image.Image) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	stride := (3*w + 3) &^ 3
	size := 14 + 40 + stride*h
	out := make([]byte, 0, size)
	out = append(out, 'B', 'M')
	out = binary.LittleEndian.AppendUint32(out, uint32(size))
	out = binary.LittleEndian.AppendUint32(out, 0)
	out = binary.LittleEndian.AppendUint32(out, 14+40)
	out = binary.LittleEndian.AppendUint32(out, 40) // BITMAPINFOHEADER
	out = binary.LittleEndian.AppendUint32(out, uint32(w))
	out = binary.LittleEndian.AppendUint32(out, uint32(h)) // bottom-up
	out = binary.LittleEndian.AppendUint16(out, 1)
	out = binary.LittleEndian.AppendUint16(out, 24)
	out = binary.LittleEndian.AppendUint32(out, 0) // BI_RGB
	out = binary.LittleEndian.AppendUint32(out, uint32(stride*h))
	out = binary.LittleEndian.AppendUint32(out, 2835) // 72 dpi
	out = binary.LittleEndian.AppendUint32(out, 2835)
	out = binary.LittleEndian.AppendUint32(out, 0)
	out = binary.LittleEndian.AppendUint32(out, 0)
	row := make([]byte, stride)
	for y := h - 1; y >= 0; y-- {
		for x := range w {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			row[3*x], row[3*x+1], row[3*x+2] = byte(bl>>8), byte(g>>8), byte(r>>8)
		}
		out = append(out, row...)
	}
	return out
}
