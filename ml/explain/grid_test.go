package explain

import (
	"slices"
	"testing"

	"github.com/clasifica/clasifica/ml/photo"
)

// TestGridOrientation checks that the grid's row 0 is the top of the
// photo for every layer's size: Grid's rows are Values' rows, and Grey
// (which the deletion test uses to prove the map points at the right
// place) paints cell 0 at the top left and the last cell at the bottom
// right.
func TestGridOrientation(t *testing.T) {
	for _, l := range Layers() {
		n := l.Side * l.Side
		m := &Map{Rows: l.Side, Cols: l.Side, Values: make([]float64, n)}
		for i := range m.Values {
			m.Values[i] = float64(i) / float64(n-1)
		}
		g := m.Grid()
		if len(g) != l.Side || !slices.Equal(g[0], m.Values[:l.Side]) || !slices.Equal(g[l.Side-1], m.Values[n-l.Side:]) {
			t.Fatalf("%s: grid rows are not the map's rows", l.Name)
		}
		p := &photo.RGB{Width: 299, Height: 299, Pix: make([]uint8, 3*299*299)}
		grey := func(q *photo.RGB, x, y int) bool { return q.Pix[3*(y*299+x)] == 128 }
		first := Grey(p, l.Side, l.Side, []int{0})
		if !grey(first, 0, 0) || grey(first, 298, 0) || grey(first, 0, 298) {
			t.Errorf("%s: cell 0 is not the top left corner", l.Name)
		}
		last := Grey(p, l.Side, l.Side, []int{n - 1})
		if !grey(last, 298, 298) || grey(last, 0, 298) || grey(last, 298, 0) {
			t.Errorf("%s: the last cell is not the bottom right corner", l.Name)
		}
		// Overlays put the hot end where the grid says: the bottom right.
		h := HeatImage(m, 299, 299)
		if h.NRGBAAt(298, 298).A <= h.NRGBAAt(0, 0).A {
			t.Errorf("%s: the overlay is not hottest at the bottom right", l.Name)
		}
	}
}
