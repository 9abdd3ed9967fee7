// Package probes holds a few small photos of things no one trains a
// photo classifier to tell apart from each other — a flower, a landscape, a
// page of text, a screenshot — shipped with the app (about 25 KB). Training
// scores them against the user's classes: a backbone whose features do not
// set them apart from the classes cannot tell a stranger either, and the
// model's "not one of its kinds" is then turned off (doctor.Profile.Judge).
//
// The flower and the landscape are photos of the sample flower set (see
// photos/README.md for their licence); the screenshot is one of
// Clasifica's own; the page of text is drawn here.
package probes

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/clasifica/clasifica/ml/features"
)

//go:embed photos/*.jpg
var photos embed.FS

// Photo is one probe photo.
type Photo struct {
	// Name says what it shows, in words ("a page of text").
	Name string
	// File is its file name; Data its content.
	File string
	Data []byte
}

// Hash returns the SHA-256 of the photo's content, which keys its features
// in the feature cache.
func (p Photo) Hash() [32]byte { return sha256.Sum256(p.Data) }

// All returns the probe photos.
func All() []Photo {
	out := []Photo{
		{Name: "a flower", File: "flower.jpg"},
		{Name: "a landscape", File: "landscape.jpg"},
		{Name: "a screenshot", File: "screenshot.jpg"},
	}
	for i := range out {
		data, err := photos.ReadFile("photos/" + out[i].File)
		if err != nil {
			panic(err) // embedded at build time: cannot be missing
		}
		out[i].Data = data
	}
	return append(out, Photo{Name: "a page of text", File: "text.png", Data: textPage()})
}

// Write writes the probe photos into dir (which must exist) and returns
// them with their paths, in the order of All.
func Write(dir string) ([]Photo, []string, error) {
	all := All()
	paths := make([]string, len(all))
	for i, p := range all {
		paths[i] = filepath.Join(dir, p.File)
		if err := os.WriteFile(paths[i], p.Data, 0o644); err != nil {
			return nil, nil, fmt.Errorf("write probe photo %s: %w", paths[i], err)
		}
	}
	return all, paths, nil
}

// textPage draws a page of typewritten text, black on white: a document
// photographed or scanned, the commonest stranger in a photo folder. It is
// drawn rather than shipped, and always the same.
func textPage() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	DrawText(img, rand.New(rand.NewPCG(1, 2)))
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	return b.Bytes()
}

// DrawText types lines of words chosen by rng in black over dst, a page of
// text for the probe photo and for tests that plant documents among
// photos.
func DrawText(dst *image.RGBA, rng *rand.Rand) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13}
	words := []string{"invoice", "total", "the", "photo", "folder", "of", "and", "meeting", "notes", "2026", "page", "report"}
	b := dst.Bounds()
	for y := b.Min.Y + 20; y < b.Max.Y-10; y += 16 {
		d.Dot = fixed.P(b.Min.X+10, y)
		line := ""
		for len(line) < 50 {
			line += words[rng.IntN(len(words))] + " "
		}
		d.DrawString(line)
	}
}

// Items writes the probe photos into dir (which must exist) and returns
// them with the feature-extraction items that read them (keyed by their
// content, so that their features are computed once per backbone).
func Items(dir string) ([]Photo, []features.Item, error) {
	all, paths, err := Write(dir)
	if err != nil {
		return nil, nil, err
	}
	items := make([]features.Item, len(all))
	for i, p := range all {
		items[i] = features.Item{Path: paths[i], Hash: p.Hash()}
	}
	return all, items, nil
}
