package model

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
)

func testModel(hidden int) *Model {
	r := rand.New(rand.NewPCG(3, 4))
	layer := func(in, out int, act string) head.Dense {
		d := head.Dense{In: in, Out: out, Activation: act, Kernel: make([]float32, in*out), Bias: make([]float32, out)}
		for i := range d.Kernel {
			d.Kernel[i] = r.Float32() - 0.5
		}
		for i := range d.Bias {
			d.Bias[i] = r.Float32()
		}
		return d
	}
	m := &Model{Meta: Meta{
		Labels: []string{"cat", "dog", "ñandú"},
		Backbone: Backbone{ID: "nsfwjs-inceptionv3", Name: "nsfwjs", SHA256: "ab12",
			Preprocess: inception.UnitRange, ImageSize: 299},
		Created:  time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Producer: "clasifica test",
		Training: &Training{Dataset: "/photos", Options: Hyperparameters{Epochs: 5, Seed: 1},
			Epochs: []Epoch{{Epoch: 1, Loss: 0.5, Accuracy: 0.8}},
			Test:   []Sample{{Path: "a/b.jpg", SHA256: "00", Label: 2}}},
	}}
	if hidden == 0 {
		m.Head = []head.Dense{layer(inception.Features, 3, head.ActivationSoftmax)}
	} else {
		m.Head = []head.Dense{layer(inception.Features, hidden, head.ActivationReLU), layer(hidden, 3, head.ActivationSoftmax)}
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	for _, hidden := range []int{0, 16} {
		m := testModel(hidden)
		path := filepath.Join(t.TempDir(), "pets"+Ext)
		if err := m.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Head) != len(m.Head) || got.Labels[2] != "ñandú" || got.Backbone != m.Backbone ||
			got.Training.Test[0] != m.Training.Test[0] || !got.Created.Equal(m.Created) {
			t.Fatalf("round trip changed the model: %+v", got.Meta)
		}
		for i := range m.Head {
			if !equal(got.Head[i].Kernel, m.Head[i].Kernel) || !equal(got.Head[i].Bias, m.Head[i].Bias) ||
				got.Head[i].Activation != m.Head[i].Activation {
				t.Errorf("layer %d differs", i)
			}
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("temporary files left behind: %v", entries)
		}
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseErrors(t *testing.T) {
	var good bytes.Buffer
	if err := testModel(8).Write(&good); err != nil {
		t.Fatal(err)
	}
	mutate := func(f func([]byte) []byte) []byte {
		return f(bytes.Clone(good.Bytes()))
	}
	newer := mutate(func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[len(magic):], Version+1)
		return b
	})
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotModel},
		{"JPEG", []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrNotModel},
		{"truncated", good.Bytes()[:good.Len()-100], ErrCorrupt},
		{"magic only", []byte(magic), ErrCorrupt},
		{"flipped bit", mutate(func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }), ErrCorrupt},
		{"extra byte", append(bytes.Clone(good.Bytes()), 0), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse: %v, want %v", err, tt.want)
			}
		})
	}
	_, err := Parse(newer)
	var ne *NewerError
	if !errors.As(err, &ne) || ne.Version != Version+1 {
		t.Fatalf("newer version: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Model)
	}{
		{"one label", func(m *Model) { m.Labels = m.Labels[:1] }},
		{"repeated label", func(m *Model) { m.Labels[1] = m.Labels[0] }},
		{"no backbone", func(m *Model) { m.Backbone.SHA256 = "" }},
		{"labels and head disagree", func(m *Model) { m.Labels = append(m.Labels, "x") }},
		{"test label out of range", func(m *Model) { m.Training.Test[0].Label = 7 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(4)
			tt.change(m)
			if err := m.Validate(); err == nil {
				t.Fatal("no error")
			}
			if err := m.Write(&bytes.Buffer{}); err == nil {
				t.Fatal("wrote an invalid model")
			}
		})
	}
}

// TestWriteFileKeepsOldOnFailure checks that a failed write leaves the
// previous model in place.
func TestWriteFileKeepsOldOnFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m"+Ext)
	if err := testModel(4).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	bad := testModel(4)
	bad.Labels = nil
	if err := bad.WriteFile(path); err == nil {
		t.Fatal("invalid model written")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("failed write changed the existing model")
	}
}

func FuzzParse(f *testing.F) {
	var good bytes.Buffer
	if err := testModel(2).Write(&good); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		Parse(data)
		m, err := parse(data, false)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid model: %v", err)
		}
		var b bytes.Buffer
		if err := m.Write(&b); err != nil {
			t.Fatalf("cannot write back a parsed model: %v", err)
		}
	})
}
