package hdf5

import (
	"bytes"
	"testing"
)

// walkAll opens b and reads everything in it: every group, dataset and
// attribute, reached once each. It fails the test only by panicking or
// running away; errors are expected for broken files.
func walkAll(t testing.TB, b []byte, maxValue int64) {
	f, err := OpenLimits(bytes.NewReader(b), int64(len(b)), Limits{MaxValueBytes: maxValue})
	if err != nil {
		return
	}
	seen := make(map[uint64]bool)
	var walk func(g *Group, depth int)
	walk = func(g *Group, depth int) {
		if seen[g.oh.addr] || depth > 16 {
			return
		}
		seen[g.oh.addr] = true
		readAttrs(g.Attrs())
		names, err := g.Members()
		if err != nil {
			return
		}
		for _, n := range names {
			if len(seen) > 1000 {
				return
			}
			if sub, err := g.Group(n); err == nil {
				walk(sub, depth+1)
				continue
			}
			d, err := g.Dataset(n)
			if err != nil || seen[d.oh.addr] {
				continue
			}
			seen[d.oh.addr] = true
			d.Shape()
			d.Datatype()
			readAttrs(d.Attrs())
			d.Float32s()
			d.Int64s()
			d.Strings()
		}
	}
	walk(f.Root(), 0)
}

func readAttrs(attrs []*Attribute, err error) {
	for _, a := range attrs {
		a.Shape()
		a.Datatype()
		a.Strings()
		a.Float32s()
		a.Int64s()
	}
}
