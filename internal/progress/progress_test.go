package progress

import (
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	for _, c := range []struct {
		name     string
		p        Progress
		rate     float64
		left     time.Duration
		fraction float64
	}{
		{"not started", Progress{Total: 10}, 0, 0, 0},
		{"no time yet", Progress{Done: 2, Total: 10}, 0, 0, 0.2},
		{"half", Progress{Done: 5, Total: 10, Elapsed: 10 * time.Second}, 0.5, 10 * time.Second, 0.5},
		// Cached items cost nothing: the 4 worked on took 8 s, so the 6
		// left take 12 s.
		{"cached", Progress{Done: 6, Total: 12, FromCache: 2, Elapsed: 8 * time.Second}, 0.5, 12 * time.Second, 0.5},
		{"all cached", Progress{Done: 3, Total: 5, FromCache: 3, Elapsed: time.Second}, 0, 0, 0.6},
		{"unknown total", Progress{Done: 3, Elapsed: time.Second}, 3, 0, 0},
	} {
		if r := c.p.Rate(); r != c.rate {
			t.Errorf("%s: rate %g, want %g", c.name, r, c.rate)
		}
		if l := c.p.Remaining(); l != c.left {
			t.Errorf("%s: remaining %v, want %v", c.name, l, c.left)
		}
		if f := c.p.Fraction(); f != c.fraction {
			t.Errorf("%s: fraction %g, want %g", c.name, f, c.fraction)
		}
	}
}

func TestClock(t *testing.T) {
	c := Start()
	p := c.At(3, 7)
	if p.Done != 3 || p.Total != 7 || p.Elapsed < 0 || p.FromCache != 0 || p.Failed != 0 {
		t.Errorf("At(3, 7) = %+v", p)
	}
	if q := c.At(4, 7); q.Elapsed < p.Elapsed {
		t.Errorf("the clock went back: %v then %v", p.Elapsed, q.Elapsed)
	}
}
