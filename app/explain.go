package app

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/ml/explain"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/photo"
)

// Explainer shows what a classifier looked at: Grad-CAM heatmaps on the
// classifier's execution provider. It holds a second copy of the image
// model (to its last block), so it is made when first needed and closed
// after.
type Explainer struct {
	ex *explain.Explainer
}

// NewExplainer makes the explainer of c's model at the default layer, on
// c's engine's execution provider.
func (a *App) NewExplainer(c *Classifier) (*Explainer, error) {
	return a.NewExplainerAt(c, "")
}

// NewExplainerAt is NewExplainer at the named layer ("mixed7" or
// "mixed10"; "" for the default).
func (a *App) NewExplainerAt(c *Classifier, layer string) (*Explainer, error) {
	o := explain.Options{}
	if layer != "" {
		l, err := explain.LayerNamed(layer)
		if err != nil {
			return nil, err
		}
		o.Layer = l
	}
	w, err := a.Backbones.Weights(c.Engine.Backbone)
	if err != nil {
		return nil, err
	}
	if w, err = c.Model.Apply(w); err != nil {
		return nil, err
	}
	ex, err := explain.NewWith(c.Engine.Engine, w, c.Model.Backbone.Preprocess, c.Model.Head, o)
	if err != nil {
		return nil, err
	}
	return &Explainer{ex: ex}, nil
}

// Close releases the explainer's sessions.
func (e *Explainer) Close() error { return e.ex.Close() }

// Explain returns the heatmap of the model's answer for the photo at
// path.
func (e *Explainer) Explain(ctx context.Context, path string) (*explain.Map, error) {
	p, err := photo.LoadFile(path, inception.Size, photo.Limits{})
	if err != nil {
		return nil, err
	}
	m, err := e.ex.Explain(ctx, p, -1)
	if err != nil {
		return nil, fmt.Errorf("explain %s: %w", path, err)
	}
	return m, nil
}

// overlaySide is the longest side of a written overlay.
const overlaySide = 800

// OverlayImage returns the photo at path, upright and at most side pixels
// on its longest side, with the heatmap m drawn over it.
func OverlayImage(path string, m *explain.Map, side int) (image.Image, error) {
	// Decoded at the smallest scale that covers side, as previews are.
	img, err := photo.LoadThumbnail(path, side, photo.Limits{})
	if err != nil {
		return nil, err
	}
	return explain.Overlay(img, m), nil
}

// WriteOverlay writes the photo at path with its heatmap as a PNG file in
// dir, named after the photo (never over another file: a numbered name
// when taken), and returns the file's path.
func WriteOverlay(path string, m *explain.Map, dir string) (string, error) {
	img, err := OverlayImage(path, m, overlaySide)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", fmt.Errorf("overlay of %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("overlay of %s: %w", path, err)
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	for n := 1; n < 10000; n++ {
		name := stem + ".heatmap.png"
		if n > 1 {
			name = fmt.Sprintf("%s (%d).heatmap.png", stem, n)
		}
		out := filepath.Join(dir, name)
		if _, err := os.Lstat(out); err == nil {
			continue
		}
		if err := atomicfile.WriteFile(out, b.Bytes(), 0o644); err != nil {
			return "", fmt.Errorf("overlay of %s: %w", path, err)
		}
		return out, nil
	}
	return "", fmt.Errorf("too many overlays named like %s in %s", stem, dir)
}
