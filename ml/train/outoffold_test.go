package train

import (
	"slices"
	"testing"

	"github.com/clasifica/clasifica/ml/dataset"
)

// deal spreads each class evenly over the groups, the same way for the
// same seed, and another way for another seed.
func TestDeal(t *testing.T) {
	var s []sample
	for i := range 53 {
		s = append(s, sample{item: i, label: i % 3})
	}
	g := deal(s, 5, 1, streamFolds)
	for c := range 3 {
		per := make([]int, 5)
		for i, smp := range s {
			if smp.label == c {
				per[g[i]]++
			}
		}
		if slices.Max(per)-slices.Min(per) > 1 {
			t.Errorf("class %d dealt %v over the folds", c, per)
		}
	}
	if !slices.Equal(deal(s, 5, 1, streamFolds), g) {
		t.Error("the same seed dealt other folds")
	}
	if slices.Equal(deal(s, 5, 2, streamFolds), g) {
		t.Error("another seed dealt the same folds")
	}
}

// pairsOnly is decisions that hold near-copy pairs and nothing else.
type pairsOnly [][2][32]byte

func (pairsOnly) Decide([32]byte, dataset.Layout, dataset.Granularity) (dataset.Decision, bool) {
	return dataset.Decision{}, false
}

func (p pairsOnly) NearCopies() [][2][32]byte { return p }

// Both photos of a near-copy pair land in one fold: the smaller hash's.
func TestPairFolds(t *testing.T) {
	d := &dataset.Dataset{}
	var pool []sample
	for i := range 20 {
		var h [32]byte
		h[0] = byte(i)
		d.Items = append(d.Items, dataset.Item{Hash: h, Label: i % 2})
		pool = append(pool, sample{item: i, label: i % 2})
	}
	hash := func(i int) [32]byte { return d.Items[i].Hash }
	// Written larger hash first, and a pair with a photo not in the pool.
	var outside [32]byte
	outside[0] = 99
	d.Options.Decisions = pairsOnly{{hash(7), hash(2)}, {hash(11), hash(12)}, {hash(3), outside}}
	r := &runner{d: d}
	group := deal(pool, 5, 1, streamFolds)
	before := slices.Clone(group)
	r.pairFolds(pool, group)
	if group[7] != before[2] || group[2] != before[2] || group[12] != before[11] || group[11] != before[11] {
		t.Errorf("pairs (2, 7) and (11, 12) in folds %d, %d and %d, %d (dealt %d, %d and %d, %d)",
			group[2], group[7], group[11], group[12], before[2], before[7], before[11], before[12])
	}
	for i := range group {
		if i != 7 && i != 12 && group[i] != before[i] {
			t.Errorf("photo %d moved from fold %d to %d", i, before[i], group[i])
		}
	}
}
