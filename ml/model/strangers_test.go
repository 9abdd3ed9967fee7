package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/ml/inception"
)

func withStrangers(m *Model) *Model {
	s := &Strangers{Judged: true}
	for c := range m.Labels {
		centre := make(Half, inception.Features)
		for j := range centre {
			centre[j] = float32(math.Sin(float64(c*inception.Features+j))) * 0.01
		}
		s.Classes = append(s.Classes, ClassSpread{Centre: centre, Median: 0.2 + 0.01*float64(c), Spread: 0.03})
	}
	m.Strangers = s
	return m
}

// TestStrangersRoundTrip: the classes' statistics come back within
// float16's rounding, in every version, and raise none.
func TestStrangersRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		m    *Model
		want uint32
	}{
		{withStrangers(testModel(8)), 1},
		{withStrangers(withTop(testModel(8))), 2},
		{withStrangers(withThreshold(testModel(8))), 3},
	} {
		var b bytes.Buffer
		if err := tc.m.Write(&b); err != nil {
			t.Fatal(err)
		}
		if v := binary.LittleEndian.Uint32(b.Bytes()[len(magic):]); v != tc.want {
			t.Errorf("written as version %d, want %d", v, tc.want)
		}
		got, err := Parse(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		s, w := got.Strangers, tc.m.Strangers
		if s == nil || !s.Judged || len(s.Classes) != len(w.Classes) {
			t.Fatalf("strangers read back as %+v", s)
		}
		for c := range s.Classes {
			if s.Classes[c].Median != w.Classes[c].Median || s.Classes[c].Spread != w.Classes[c].Spread {
				t.Errorf("class %d: %v/%v, want %v/%v", c, s.Classes[c].Median, s.Classes[c].Spread, w.Classes[c].Median, w.Classes[c].Spread)
			}
			for j, v := range s.Classes[c].Centre {
				if d := math.Abs(float64(v - w.Classes[c].Centre[j])); d > 1e-5 {
					t.Fatalf("class %d value %d: %v, want %v", c, j, v, w.Classes[c].Centre[j])
				}
			}
		}
	}
	// An answer turned off keeps its reason and no class.
	m := testModel(0)
	m.Strangers = &Strangers{Reason: "this image model cannot tell"}
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.Strangers == nil || got.Strangers.Judged || got.Strangers.Reason != m.Strangers.Reason {
		t.Errorf("read back %+v", got.Strangers)
	}
	// A few KB per class.
	meta, _ := json.Marshal(withStrangers(testModel(0)).Strangers.Classes[0])
	if len(meta) > 6000 {
		t.Errorf("a class takes %d bytes of meta", len(meta))
	}
}

// TestStrangersOldFiles: a file written before the statistics existed (its
// meta has no "strangers") reads with none, and a file with them keeps its
// older readers' view: the meta an older reader decodes is the same but
// for the new key, and the version is the one they read.
func TestStrangersOldFiles(t *testing.T) {
	var old bytes.Buffer
	if err := testModel(8).Write(&old); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(old.String(), `"strangers"`) {
		t.Fatal("a model without the statistics writes the key")
	}
	got, err := Parse(old.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.Strangers != nil {
		t.Errorf("an old file reads with strangers %+v", got.Strangers)
	}
	var b bytes.Buffer
	if err := withStrangers(testModel(8)).Write(&b); err != nil {
		t.Fatal(err)
	}
	if v := binary.LittleEndian.Uint32(b.Bytes()[len(magic):]); v != versionHeadOnly {
		t.Errorf("version %d, want %d (read by every Clasifica)", v, versionHeadOnly)
	}
	// The meta of both, as any reader of the JSON sees it: equal once the
	// new key is dropped.
	metaOf := func(data []byte) map[string]any {
		n := binary.LittleEndian.Uint32(data[len(magic)+4:])
		var m map[string]any
		if err := json.Unmarshal(data[len(magic)+8:len(magic)+8+int(n)], &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, c := metaOf(old.Bytes()), metaOf(b.Bytes())
	delete(c, "strangers")
	ja, _ := json.Marshal(a)
	jc, _ := json.Marshal(c)
	if !bytes.Equal(ja, jc) {
		t.Errorf("the meta differs beyond the new key:\n%s\n%s", ja, jc)
	}
}

func TestStrangersValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mangle func(*Strangers)
		want   string
	}{
		{"too few classes", func(s *Strangers) { s.Classes = s.Classes[:2] }, "2 classes for 3 labels"},
		{"short centre", func(s *Strangers) { s.Classes[1].Centre = s.Classes[1].Centre[:10] }, "10 values"},
		{"NaN centre", func(s *Strangers) { s.Classes[0].Centre[5] = float32(math.NaN()) }, "NaN"},
		{"no spread", func(s *Strangers) { s.Classes[2].Spread = 0 }, "spread 0"},
		{"classes while off", func(s *Strangers) { s.Judged = false }, "while not judged"},
		{"no centre", func(s *Strangers) {
			for i := range s.Classes {
				s.Classes[i].Centre = nil
			}
		}, "no class centre"},
	} {
		m := withStrangers(testModel(0))
		tc.mangle(m.Strangers)
		err := m.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}
