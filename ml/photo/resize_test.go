package photo

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// refResize is the resizer written the obvious way, as a reference: float64
// throughout, a triangle of radius max(in/out, 1) around each output
// centre, every input with a positive weight, normalised, applied as a 2D
// sum.
func refResize(src *image.RGBA, w, h int) [][3]float64 {
	type tap struct {
		i int
		w float64
	}
	weights := func(in, out int) [][]tap {
		scale := float64(in) / float64(out)
		radius := math.Max(scale, 1)
		all := make([][]tap, out)
		for o := range all {
			center := (float64(o) + 0.5) * scale
			var sum float64
			for i := range in {
				if t := 1 - math.Abs(float64(i)+0.5-center)/radius; t > 0 {
					all[o] = append(all[o], tap{i, t})
					sum += t
				}
			}
			for k := range all[o] {
				all[o][k].w /= sum
			}
		}
		return all
	}
	b := src.Bounds()
	wx, wy := weights(b.Dx(), w), weights(b.Dy(), h)
	out := make([][3]float64, w*h)
	for y := range h {
		for x := range w {
			var acc [3]float64
			for _, ty := range wy[y] {
				for _, tx := range wx[x] {
					c := src.RGBAAt(b.Min.X+tx.i, b.Min.Y+ty.i)
					acc[0] += ty.w * tx.w * float64(c.R)
					acc[1] += ty.w * tx.w * float64(c.G)
					acc[2] += ty.w * tx.w * float64(c.B)
				}
			}
			out[y*w+x] = acc
		}
	}
	return out
}

func noise(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, seed))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = byte(rng.Uint32())
		if i%4 == 3 {
			m.Pix[i] = 0xff
		}
	}
	return m
}

func gradient(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, color.RGBA{uint8(255 * x / max(w-1, 1)), uint8(255 * y / max(h-1, 1)), uint8((x + y) % 256), 255})
		}
	}
	return m
}

var resizeSizes = []struct{ sw, sh, w, h int }{
	{500, 375, 299, 299}, // pets: shrink by 1.7 and 1.3
	{128, 128, 299, 299}, // flowers: enlarge
	{299, 299, 299, 299}, // identity
	{1, 1, 299, 299},
	{3000, 7, 299, 299}, // shrink one axis a lot, enlarge the other
	{640, 480, 64, 48},  // shrink by 10
	{7, 5, 3, 2},
	{2, 2, 1, 1},
	{97, 61, 96, 62}, // nearly 1:1, both directions
}

func TestResizeMatchesReference(t *testing.T) {
	for _, sz := range resizeSizes {
		for _, src := range []*image.RGBA{noise(sz.sw, sz.sh, 1), gradient(sz.sw, sz.sh)} {
			if sz.sw*sz.sh > 100000 && testing.Short() {
				continue
			}
			got := Resize(src, sz.w, sz.h)
			want := refResize(src, sz.w, sz.h)
			var worst float64
			for i, px := range want {
				for c := range 3 {
					worst = math.Max(worst, math.Abs(float64(got.Pix[3*i+c])-px[c]))
				}
			}
			// Rounding to integers costs 0.5; fixed-point weights
			// and the rounding between passes a little more.
			if worst > 0.75 {
				t.Errorf("%dx%d -> %dx%d: off the reference by up to %.2f", sz.sw, sz.sh, sz.w, sz.h, worst)
			}
		}
	}
}

func TestResizeConstant(t *testing.T) {
	c := color.RGBA{37, 150, 250, 255}
	for _, sz := range resizeSizes {
		src := image.NewRGBA(image.Rect(0, 0, sz.sw, sz.sh))
		for i := 0; i < len(src.Pix); i += 4 {
			src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = c.R, c.G, c.B, c.A
		}
		got := Resize(src, sz.w, sz.h)
		for i := 0; i < len(got.Pix); i += 3 {
			if got.Pix[i] != c.R || got.Pix[i+1] != c.G || got.Pix[i+2] != c.B {
				t.Fatalf("%dx%d -> %dx%d: pixel %d = %v, want %v", sz.sw, sz.sh, sz.w, sz.h, i/3, got.Pix[i:i+3], c)
			}
		}
	}
}

func TestResizeIdentity(t *testing.T) {
	src := noise(61, 37, 2)
	got := Resize(src, 61, 37)
	for y := range 37 {
		for x := range 61 {
			if g, w := rgbAt(got, x, y), src.RGBAAt(x, y); g != w {
				t.Fatalf("(%d, %d) = %v, want %v", x, y, g, w)
			}
		}
	}
}

// TestResizeRamp checks values a linear ramp must give: any symmetric
// normalised kernel returns a linear function's value at the output
// sample's centre, away from the edges where the kernel is cut.
func TestResizeRamp(t *testing.T) {
	for _, tc := range []struct {
		in, out int
	}{{256, 128}, {255, 100}, {64, 256}, {100, 299}} {
		src := image.NewGray(image.Rect(0, 0, tc.in, 1))
		k := 255 / (tc.in - 1) // the ramp must be exactly linear
		for x := range tc.in {
			src.Pix[x] = uint8(k * x)
		}
		got := Resize(src, tc.out, 1)
		scale := float64(tc.in) / float64(tc.out)
		margin := int(math.Ceil(2 * math.Max(1/scale, 1)))
		for i := margin; i < tc.out-margin; i++ {
			center := (float64(i)+0.5)*scale - 0.5 // in input pixel indices
			want := center * float64(k)
			if g := float64(got.Pix[3*i]); math.Abs(g-want) > 0.55 {
				t.Errorf("%d -> %d: output %d = %v, want %.2f", tc.in, tc.out, i, g, want)
			}
		}
	}
}

// TestResizeMatchesPillow compares with Pillow's Image.resize(BILINEAR)
// output from testdata/gen.sh. Pillow rounds to whole values between its
// two passes, so one level of difference is expected.
func TestResizeMatchesPillow(t *testing.T) {
	src, _, err := DecodeFile("testdata/pil-src.png", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pil-down.png", "pil-up.png", "pil-mixed.png"} {
		want, _, err := DecodeFile("testdata/"+name, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		b := want.Bounds()
		got := Resize(src, b.Dx(), b.Dy())
		worst, sum := 0, 0
		for y := range b.Dy() {
			for x := range b.Dx() {
				g := rgbAt(got, x, y)
				w := color.RGBAModel.Convert(want.At(x, y)).(color.RGBA)
				d := max(absDiff(g.R, w.R), absDiff(g.G, w.G), absDiff(g.B, w.B))
				worst = max(worst, d)
				sum += d
			}
		}
		if worst > 1 {
			t.Errorf("%s: differs from Pillow by up to %d (mean %.3f)", name, worst, float64(sum)/float64(b.Dx()*b.Dy()))
		}
	}
}

func TestFilterWeights(t *testing.T) {
	for _, in := range []int{1, 2, 3, 7, 128, 299, 500, 4000, 50000} {
		for _, out := range []int{1, 2, 3, 299, 300, 1000} {
			var f filter
			f.make(in, out, vBits)
			if f.taps < 1 || f.taps > in {
				t.Fatalf("%d -> %d: %d taps", in, out, f.taps)
			}
			for i, s := range f.start {
				if s < 0 || s+f.taps > in {
					t.Fatalf("%d -> %d: output %d reads [%d, %d)", in, out, i, s, s+f.taps)
				}
				var sum int32
				for _, w := range f.w[i*f.taps:][:f.taps] {
					if w < 0 {
						t.Fatalf("%d -> %d: output %d has negative weight %d", in, out, i, w)
					}
					sum += w
				}
				if sum != 1<<vBits {
					t.Fatalf("%d -> %d: output %d weights sum to %d", in, out, i, sum)
				}
			}
		}
	}
}

func TestResizeEmptyAndInvalid(t *testing.T) {
	got := Resize(image.NewRGBA(image.Rectangle{}), 3, 2)
	for _, v := range got.Pix {
		if v != 0xff {
			t.Fatalf("empty source gave %v, want white", got.Pix)
		}
	}
	for _, sz := range [][2]int{{0, 1}, {1, 0}, {-1, 5}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Resize to %v did not panic", sz)
				}
			}()
			Resize(noise(4, 4, 1), sz[0], sz[1])
		}()
	}
}

func TestThumbnail(t *testing.T) {
	for _, tc := range []struct {
		sw, sh, max, w, h int
	}{
		{500, 375, 100, 100, 75},
		{375, 500, 100, 75, 100},
		{300, 300, 256, 256, 256},
		{50, 20, 100, 50, 20}, // already fits: not enlarged
		{1000, 1, 10, 10, 1},  // the short side stays at least 1
		{999, 500, 2, 2, 1},
	} {
		t.Run(fmt.Sprintf("%dx%d/%d", tc.sw, tc.sh, tc.max), func(t *testing.T) {
			src := noise(tc.sw, tc.sh, 3)
			th := Thumbnail(src, tc.max)
			if th.Rect != image.Rect(0, 0, tc.w, tc.h) {
				t.Fatalf("bounds %v, want %dx%d", th.Rect, tc.w, tc.h)
			}
			want := Resize(src, tc.w, tc.h)
			for y := range tc.h {
				for x := range tc.w {
					w := rgbAt(want, x, y)
					if g := th.RGBAAt(x, y); g != w {
						t.Fatalf("(%d, %d) = %v, want %v", x, y, g, w)
					}
				}
			}
		})
	}
}

func TestAppendFloat32(t *testing.T) {
	p := &RGB{Width: 2, Height: 1, Pix: []uint8{0, 255, 51, 102, 153, 204}}
	prefix := []float32{42}
	got := p.AppendFloat32(prefix, 2.0/255, -1)
	want := []float32{42, -1, 1, -0.6, -0.2, 0.2, 0.6}
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Errorf("value %d = %v, want %v", i, got[i], want[i])
		}
	}
	// [0, 1] scaling, appended in place when there is room.
	buf := make([]float32, 0, 12)
	got = p.AppendFloat32(buf, 1.0/255, 0)
	got = p.AppendFloat32(got, 1.0/255, 0)
	if &got[0] != &buf[:1][0] || len(got) != 12 || got[1] != 1 || got[6+1] != 1 {
		t.Errorf("second append: %v", got)
	}
}

func TestRGBImage(t *testing.T) {
	p := &RGB{Width: 2, Height: 2, Pix: []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	var m image.Image = p
	if m.Bounds() != image.Rect(0, 0, 2, 2) {
		t.Errorf("bounds %v", m.Bounds())
	}
	if c := m.At(1, 1); c != (color.RGBA{10, 11, 12, 255}) {
		t.Errorf("At(1, 1) = %v", c)
	}
	if c := m.At(2, 0); c != (color.RGBA{}) {
		t.Errorf("At outside = %v", c)
	}
}
