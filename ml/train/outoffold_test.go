package train

import (
	"bytes"
	"slices"
	"testing"
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

// Both photos of a near-copy pair the dataset keeps together land in one
// fold: the smaller hash's.
func TestPairFolds(t *testing.T) {
	scanned := flowers(t, 0.2, 0)
	// Pairs named larger hash first or not, and one with a photo not in
	// the folder.
	order := make([]int, len(scanned.Items))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(scanned.Items[a].Hash[:], scanned.Items[b].Hash[:]) })
	small, large := order[3], order[100]
	small2, large2 := order[40], order[41]
	var outside [32]byte
	hash := func(i int) [32]byte { return scanned.Items[i].Hash }
	d, err := scanned.WithNearCopies([][2][32]byte{{hash(large), hash(small)}, {hash(small2), hash(large2)}, {hash(order[7]), outside}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.NearCopyPairs()) != 3 {
		t.Fatalf("the dataset keeps %d pairs", len(d.NearCopyPairs()))
	}
	at := map[[32]byte]int{}
	var pool []sample
	for i, it := range d.Items {
		at[it.Hash] = len(pool)
		pool = append(pool, sample{item: i, label: it.Label})
	}
	r := &runner{d: d}
	group := deal(pool, 5, 1, streamFolds)
	before := slices.Clone(group)
	r.pairFolds(pool, group)
	a, b := at[hash(small)], at[hash(large)]
	a2, b2 := at[hash(small2)], at[hash(large2)]
	if group[a] != before[a] || group[b] != before[a] || group[a2] != before[a2] || group[b2] != before[a2] {
		t.Errorf("pairs in folds %d, %d and %d, %d (dealt %d, %d and %d, %d)", group[a], group[b], group[a2], group[b2], before[a], before[b], before[a2], before[b2])
	}
	for i := range group {
		if i != b && i != b2 && group[i] != before[i] {
			t.Errorf("photo %d moved from fold %d to %d", i, before[i], group[i])
		}
	}
}
