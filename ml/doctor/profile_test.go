package doctor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestProfileJudge checks the profile on features with a known answer:
// three clusters, probes far from them, a probe inside one, and probes
// that are close to all of them.
func TestProfileJudge(t *testing.T) {
	const dim = 32
	x, labels, _ := synthetic([]int{60, 60, 60}, dim, 0.5, 0, 9)
	p, err := NewProfile(x, dim, labels, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(dim, 3); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	far := func() []float32 {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(math.Max(0, 3*rng.NormFloat64()+1))
		}
		return v
	}
	inside := x[61*dim : 62*dim] // a photo of class 1
	if z, c := p.Deviations(inside); z >= StrangeDeviations || c != 1 {
		t.Errorf("a photo of class 1 stands %.1f from class %d", z, c)
	}
	classes := []string{"a", "b", "c"}
	j := p.Judge([]Probe{{Name: "far 1", Features: far()}, {Name: "far 2", Features: far()}, {Name: "one of b", Features: inside}}, classes)
	if !j.Judged || len(j.Probes) != 3 || !j.Probes[2].Skipped || j.Probes[2].Nearest != "b" || j.Probes[0].Skipped {
		t.Errorf("judgement %+v; want judged, the probe inside b skipped", j)
	}
	j = p.Judge([]Probe{{Name: "one of b", Features: inside}}, classes)
	if j.Judged || j.Reason == "" {
		t.Errorf("judged %v (%q) on a probe that is one of the classes", j.Judged, j.Reason)
	}
	// Probes a little outside every class, but not as far as strangers.
	near := make([]float32, dim)
	for c := range 3 {
		for j := range dim {
			near[j] += p.Centres[c][j] / 3
		}
	}
	z, _ := p.Deviations(near)
	t.Logf("the mean of the centres stands %.1f deviations out", z)
	if z >= resembleDeviations && z < StrangeDeviations {
		if j := p.Judge([]Probe{{Name: "between", Features: near}}, classes); j.Judged {
			t.Errorf("judged on a probe %.1f deviations out", z)
		}
	}
	if err := (&Profile{Centres: [][]float32{make([]float32, dim)}, Median: []float64{0}, Spread: []float64{0}}).Validate(dim, 1); err == nil {
		t.Error("a profile with no spread validates")
	}
	if err := p.Validate(dim+1, 3); err == nil {
		t.Error("a profile validates for another feature size")
	}
}
