package model

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/ml/inception"
)

// withTop adds fine-tuned units (the last two of mixed10) to m.
func withTop(m *Model) *Model {
	shapes := unitShapes()
	for _, name := range []string{"conv2d_93", "conv2d_94"} {
		u := shapes[name]
		t := Unit{Conv: u.Conv, BN: u.BN, Kernel: make([]float32, u.KH*u.KW*u.In*u.Out), Beta: make([]float32, u.Out)}
		for i := range t.Kernel {
			t.Kernel[i] = float32(i%13) * 1e-3
		}
		for i := range t.Beta {
			t.Beta[i] = -float32(i) * 1e-2
		}
		m.Top = append(m.Top, t)
	}
	return m
}

func TestTopRoundTrip(t *testing.T) {
	m := withTop(testModel(16))
	path := filepath.Join(t.TempDir(), "tuned"+Ext)
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Top) != 2 {
		t.Fatalf("read %d fine-tuned units, want 2", len(got.Top))
	}
	for i, u := range got.Top {
		w := m.Top[i]
		if u.Conv != w.Conv || u.BN != w.BN || !slices.Equal(u.Kernel, w.Kernel) || !slices.Equal(u.Beta, w.Beta) {
			t.Errorf("unit %d changed in the round trip: %s/%s", i, u.Conv, u.BN)
		}
	}
}

// TestVersions checks that a head-only model is still written as version
// 1, which older Clasifica versions read, and a fine-tuned one as version 2;
// and that version 1 files (all files from before fine-tuning) still open.
func TestVersions(t *testing.T) {
	for _, tc := range []struct {
		m    *Model
		want uint32
	}{{testModel(8), 1}, {withTop(testModel(8)), 2}} {
		var b bytes.Buffer
		if err := tc.m.Write(&b); err != nil {
			t.Fatal(err)
		}
		if v := binary.LittleEndian.Uint32(b.Bytes()[len(magic):]); v != tc.want {
			t.Errorf("model with %d fine-tuned units written as version %d, want %d", len(tc.m.Top), v, tc.want)
		}
		got, err := Parse(b.Bytes())
		if err != nil {
			t.Fatalf("version %d: %v", tc.want, err)
		}
		if len(got.Top) != len(tc.m.Top) {
			t.Errorf("version %d: %d fine-tuned units, want %d", tc.want, len(got.Top), len(tc.m.Top))
		}
	}
}

func TestTopValidate(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(*Model)
		want   string
	}{
		{"unknown unit", func(m *Model) { m.Top[0].Conv = "conv2d_999" }, "not an InceptionV3 unit"},
		{"wrong BN", func(m *Model) { m.Top[0].BN = "batch_normalization_1" }, "not an InceptionV3 unit"},
		{"repeated", func(m *Model) { m.Top[1] = m.Top[0] }, "repeated"},
		{"short kernel", func(m *Model) { m.Top[0].Kernel = m.Top[0].Kernel[1:] }, "kernel"},
		{"NaN", func(m *Model) { m.Top[1].Beta[3] = float32(nan()) }, "holds NaN"},
	}
	for _, tt := range tests {
		m := withTop(testModel(4))
		tt.mangle(m)
		if err := m.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want an error about %q", tt.name, err, tt.want)
		}
	}
}

func nan() float64 { var z float64; return z / z }

func TestApply(t *testing.T) {
	m := withTop(testModel(4))
	shapes := unitShapes()
	var base inception.Weights
	for _, l := range inception.Layers() {
		if u, ok := shapes[l.Name]; ok {
			u.Kernel = make([]float32, u.KH*u.KW*u.In*u.Out)
			u.Beta = make([]float32, u.Out)
			base.Units = append(base.Units, u)
		}
	}
	w, err := m.Apply(&base)
	if err != nil {
		t.Fatal(err)
	}
	n := len(base.Units)
	if !slices.Equal(w.Units[n-1].Beta, m.Top[1].Beta) || !slices.Equal(w.Units[n-2].Kernel, m.Top[0].Kernel) {
		t.Errorf("Apply did not put the fine-tuned units in place")
	}
	if base.Units[n-1].Beta[1] != 0 {
		t.Errorf("Apply changed the backbone's weights")
	}
	m.Top[0].Conv = "conv2d_999"
	if _, err := m.Apply(&base); err == nil {
		t.Errorf("Apply accepted a unit the backbone lacks")
	}
}
