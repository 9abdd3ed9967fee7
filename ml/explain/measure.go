package explain

import (
	"context"
	"image"
	"image/draw"
	"math"
	"math/rand/v2"

	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/photo"
)

// The three checks of a heatmap that issue 18 asks for, shared by the
// tests and tools/explain-check so that both measure the same thing.

// Faithfulness is the deletion test's result (Petsiuk et al. 2018, in its
// simplest form) over a set of photos.
type Faithfulness struct {
	// Wins counts the photos whose answer lost more probability when the
	// map's most important quarter was greyed than when its least
	// important quarter was; Photos counts them all.
	Wins, Photos int
	// DropTop and DropBottom are the mean losses of the answer's
	// probability when greying the most and the least important quarter.
	DropTop, DropBottom float64
}

// DeletionTest explains each photo (299×299, as photo.LoadFile returns
// them) for its answer and greys the quarter of the grid's cells the map
// ranks highest, then the quarter it ranks lowest, comparing the answer's
// probability.
func DeletionTest(ctx context.Context, ex *Explainer, photos []*photo.RGB) (Faithfulness, error) {
	var f Faithfulness
	for _, p := range photos {
		m, err := ex.Explain(ctx, p, -1)
		if err != nil {
			return f, err
		}
		ranked := m.Ranked()
		q := len(ranked) / 4
		prob := func(cells []int) (float64, error) {
			g, err := ex.Explain(ctx, Grey(p, m.Rows, m.Cols, cells), m.Class)
			if err != nil {
				return 0, err
			}
			return float64(g.Probs[m.Class]), nil
		}
		base := float64(m.Probs[m.Class])
		top, err := prob(ranked[:q])
		if err != nil {
			return f, err
		}
		bottom, err := prob(ranked[len(ranked)-q:])
		if err != nil {
			return f, err
		}
		f.DropTop += base - top
		f.DropBottom += base - bottom
		if base-top > base-bottom {
			f.Wins++
		}
		f.Photos++
	}
	if f.Photos > 0 {
		f.DropTop /= float64(f.Photos)
		f.DropBottom /= float64(f.Photos)
	}
	return f, nil
}

// RandomHead returns layers of the same shapes with Glorot-uniform random
// weights drawn from seed, as an untrained head starts: the sanity check's
// model (Adebayo et al. 2018).
func RandomHead(layers []head.Dense, seed uint64) []head.Dense {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]head.Dense, len(layers))
	for i, l := range layers {
		r := math.Sqrt(6 / float64(l.In+l.Out))
		k := make([]float32, len(l.Kernel))
		for j := range k {
			k[j] = float32((2*rng.Float64() - 1) * r)
		}
		out[i] = head.Dense{In: l.In, Out: l.Out, Kernel: k, Bias: make([]float32, l.Out), Activation: l.Activation}
	}
	return out
}

// Sanity returns the mean rank correlation (Spearman's) between the maps
// of class 0 that trained and random (an explainer of RandomHead) make of
// the same photos: near 0 when the maps show what the model learnt, near 1
// when they show the photo whatever the model.
func Sanity(ctx context.Context, trained, random *Explainer, photos []*photo.RGB) (float64, error) {
	var corr float64
	for _, p := range photos {
		a, err := trained.Explain(ctx, p, 0)
		if err != nil {
			return 0, err
		}
		b, err := random.Explain(ctx, p, 0)
		if err != nil {
			return 0, err
		}
		corr += RankCorrelation(a.Values, b.Values)
	}
	return corr / float64(max(len(photos), 1)), nil
}

// RankCorrelation is Spearman's correlation of a and b (ties ranked by
// position).
func RankCorrelation(a, b []float64) float64 {
	rank := func(v []float64) []float64 {
		m := &Map{Raw: v, Values: v}
		r := make([]float64, len(v))
		for pos, i := range m.Ranked() {
			r[i] = float64(pos)
		}
		return r
	}
	ra, rb := rank(a), rank(b)
	n := float64(len(a))
	mean := (n - 1) / 2
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-mean, rb[i]-mean
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	return sab / math.Sqrt(saa*sbb)
}

// Composite is a photo of one class in one half of a wide canvas and
// something else in the other, squashed to 299×299 as any photo is.
type Composite struct {
	Photo *photo.RGB
	// Left: the class's photo fills the left half.
	Left bool
	// Class is the class of the photo in its half.
	Class int
}

// NewComposite lays subject (of class) and other, each squashed to
// 299×299, side by side on a 598×299 canvas, subject on the left when left,
// and squashes the canvas to 299×299.
func NewComposite(subject, other image.Image, class int, left bool) Composite {
	canvas := image.NewRGBA(image.Rect(0, 0, 2*inception.Size, inception.Size))
	sr, or := canvas.Bounds(), canvas.Bounds()
	if left {
		sr.Max.X, or.Min.X = inception.Size, inception.Size
	} else {
		sr.Min.X, or.Max.X = inception.Size, inception.Size
	}
	draw.Draw(canvas, sr, photo.Resize(subject, inception.Size, inception.Size), image.Point{}, draw.Src)
	draw.Draw(canvas, or, photo.Resize(other, inception.Size, inception.Size), image.Point{}, draw.Src)
	return Composite{Photo: photo.Resize(canvas, inception.Size, inception.Size), Left: left, Class: class}
}

// Localisation is how heatmaps of composites divide between the subject's
// half and the other half.
type Localisation struct {
	Composites int
	// MassOnSubject is the mean share of a map's mass on the subject's
	// half; MostOnSubject counts the maps with more than half there.
	MassOnSubject float64
	MostOnSubject int
	// GreySubjectHurts counts the composites whose answer for the
	// subject's class loses more when the subject's half is greyed than
	// when the other half is: how often the model itself looks at the
	// subject, which judges the backbone rather than the map.
	GreySubjectHurts int
}

// Localise explains each composite for its subject's class. On a grid of
// odd width the middle column straddles both halves: it counts for
// neither.
func Localise(ctx context.Context, ex *Explainer, cs []Composite) (Localisation, error) {
	var l Localisation
	for _, c := range cs {
		m, err := ex.Explain(ctx, c.Photo, c.Class)
		if err != nil {
			return l, err
		}
		var on, all float64
		var subject, other []int
		for cell, v := range m.Values {
			col := cell % m.Cols
			if m.Cols%2 == 1 && col == m.Cols/2 {
				continue
			}
			if (col < m.Cols/2) == c.Left {
				on += v
				subject = append(subject, cell)
			} else {
				other = append(other, cell)
			}
			all += v
		}
		if all > 0 {
			l.MassOnSubject += on / all
			if on > all/2 {
				l.MostOnSubject++
			}
		}
		gs, err := ex.Explain(ctx, Grey(c.Photo, m.Rows, m.Cols, subject), c.Class)
		if err != nil {
			return l, err
		}
		gf, err := ex.Explain(ctx, Grey(c.Photo, m.Rows, m.Cols, other), c.Class)
		if err != nil {
			return l, err
		}
		if gs.Probs[c.Class] < gf.Probs[c.Class] {
			l.GreySubjectHurts++
		}
		l.Composites++
	}
	if l.Composites > 0 {
		l.MassOnSubject /= float64(l.Composites)
	}
	return l, nil
}
