package explain

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"

	"github.com/clasifica/clasifica/ml/photo"
)

// Ranked returns the grid's cells (row-major indices) from the strongest
// to the weakest, by the raw sums when the map has them (cells shown as
// 0 then rank by how much they speak against the class); equal cells
// keep their order.
func (m *Map) Ranked() []int {
	v := m.Values
	if len(m.Raw) == len(v) {
		v = m.Raw
	}
	cells := make([]int, len(m.Values))
	for i := range cells {
		cells[i] = i
	}
	slices.SortStableFunc(cells, func(a, b int) int {
		switch {
		case v[a] > v[b]:
			return -1
		case v[a] < v[b]:
			return 1
		}
		return 0
	})
	return cells
}

// At returns the heatmap at (x, y) of a w×h picture, interpolated
// bilinearly between the centres of the grid's cells.
func (m *Map) At(x, y float64, w, h int) float64 {
	gx := x/float64(w)*float64(m.Cols) - 0.5
	gy := y/float64(h)*float64(m.Rows) - 0.5
	x0, y0 := int(math.Floor(gx)), int(math.Floor(gy))
	fx, fy := gx-float64(x0), gy-float64(y0)
	v := func(c, r int) float64 {
		c = min(max(c, 0), m.Cols-1)
		r = min(max(r, 0), m.Rows-1)
		return m.Values[r*m.Cols+c]
	}
	top := v(x0, y0)*(1-fx) + v(x0+1, y0)*fx
	bottom := v(x0, y0+1)*(1-fx) + v(x0+1, y0+1)*fx
	return top*(1-fy) + bottom*fy
}

// Heat returns the overlay colour of a heatmap value in [0, 1]: from
// transparent through red to yellow, more opaque where hotter, so that
// the photo shows through where the model did not look.
func Heat(v float64) color.NRGBA {
	v = min(max(v, 0), 1)
	return color.NRGBA{R: 255, G: uint8(220 * v), B: 0, A: uint8(200 * math.Sqrt(v))}
}

// Overlay returns img with m drawn over it, upsampled to its size.
func Overlay(img image.Image, m *Map) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	heat := HeatImage(m, b.Dx(), b.Dy())
	draw.Draw(out, out.Bounds(), heat, image.Point{}, draw.Over)
	return out
}

// HeatImage returns the heatmap alone as a w×h picture in Heat's
// colours, to lay over the photo.
func HeatImage(m *Map, w, h int) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			out.SetNRGBA(x, y, Heat(m.At(float64(x)+0.5, float64(y)+0.5, w, h)))
		}
	}
	return out
}

// Grey returns a copy of p with the given cells of a rows×cols grid
// painted mid-grey: the deletion test's way of removing what they show.
func Grey(p *photo.RGB, rows, cols int, cells []int) *photo.RGB {
	q := &photo.RGB{Width: p.Width, Height: p.Height, Pix: slices.Clone(p.Pix)}
	for _, c := range cells {
		r, k := c/cols, c%cols
		for y := r * p.Height / rows; y < (r+1)*p.Height/rows; y++ {
			for x := k * p.Width / cols; x < (k+1)*p.Width/cols; x++ {
				i := 3 * (y*p.Width + x)
				q.Pix[i], q.Pix[i+1], q.Pix[i+2] = 128, 128, 128
			}
		}
	}
	return q
}
