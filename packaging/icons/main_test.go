package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/bmp"
)

// TestWizardBitmap checks the setup's welcome picture: a 164×314 BMP that
// a standard decoder reads, showing the icon (its blue) on a pale ground.
func TestWizardBitmap(t *testing.T) {
	f, err := os.ReadFile(filepath.Join("..", "..", "resources", "icon.png"))
	if err != nil {
		t.Fatal(err)
	}
	icon, err := png.Decode(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "wizard.bmp")
	if err := run(filepath.Join("..", "..", "resources", "icon.png"), "", "x", "", out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := bmp.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	if b := img.Bounds(); b.Dx() != wizardW || b.Dy() != wizardH {
		t.Fatalf("the picture is %v, NSIS wants %d×%d", b, wizardW, wizardH)
	}
	// The corner is the pale ground; the middle of the icon is its
	// artwork, not the ground.
	r, g, b, _ := img.At(2, 2).RGBA()
	if r>>8 < 0xc0 || g>>8 < 0xc0 || b>>8 < 0xf0 {
		t.Errorf("corner colour %x %x %x, want a pale blue", r>>8, g>>8, b>>8)
	}
	// At a tenth of the icon's width, half way down: its blue ground.
	x, y := (wizardW-120)/2+12, 64+60
	r, g, b, _ = img.At(x, y).RGBA()
	ir, ig, ib, _ := icon.At(icon.Bounds().Dx()/10, icon.Bounds().Dy()/2).RGBA()
	if b>>8 < 0xc0 || r>>8 > 0x90 || ib>>8 < 0xc0 {
		t.Errorf("the icon's blue is %x %x %x at (%d, %d) (the icon has %x %x %x there)", r>>8, g>>8, b>>8, x, y, ir>>8, ig>>8, ib>>8)
	}
}
