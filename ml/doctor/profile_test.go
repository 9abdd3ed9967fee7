package doctor

import (
	"math"
	"math/rand/v2"
	"strings"
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
	// A probe a little outside every class, but not as far as strangers
	// (found between class b's centre and a far point): with it the
	// backbone is not trusted, however far the others stand.
	f := far()
	var between []float32
	for step := range 100 {
		v := make([]float32, dim)
		a := float32(step) / 100
		for k := range v {
			v[k] = (1-a)*p.Centres[1][k] + a*f[k]
		}
		if z, _ := p.Deviations(v); z >= resembleDeviations && z < StrangeDeviations {
			between = v
			break
		}
	}
	if between == nil {
		t.Fatal("no point between the classes and the far ones")
	}
	j = p.Judge([]Probe{{Name: "far 1", Features: far()}, {Name: "far 2", Features: far()}, {Name: "between", Features: between}}, classes)
	if j.Judged || !strings.Contains(j.Reason, "(between)") {
		t.Errorf("judged %v (%q) with a probe between the classes and the strangers", j.Judged, j.Reason)
	}
	// One far probe of several is not enough.
	if j := p.Judge([]Probe{{Name: "far", Features: far()}, {Name: "one of b", Features: inside}}, classes); j.Judged {
		t.Error("judged on one probe standing out and one among the classes")
	}
	if err := (&Profile{Centres: [][]float32{make([]float32, dim)}, Median: []float64{0}, Spread: []float64{0}}).Validate(dim, 1); err == nil {
		t.Error("a profile with no spread validates")
	}
	if err := p.Validate(dim+1, 3); err == nil {
		t.Error("a profile validates for another feature size")
	}
}
