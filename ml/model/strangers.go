package model

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	float16 "github.com/clasifica/clasifica/internal/half"
	"github.com/clasifica/clasifica/ml/inception"
)

// Strangers is what a model keeps to answer "not one of its kinds" for a
// photo far from every class (see doctor.Profile): each class's centre in
// the head's input features and how far the class's training photos stand
// from it, about 5.5 KB per class. Training decides whether the backbone
// can judge strangers at all (doctor.Profile.Judge, on photos shipped for
// that); when it cannot, Judged is false, Reason says why, and no class is
// kept.
//
// It is an optional part of the meta: files without it (older ones, and
// models not trained by Clasifica) answer every photo with one of their
// kinds, as before. A reader that predates it ignores it and does the same,
// which is what the model did when that reader was current, so it does
// not raise the format version.
type Strangers struct {
	Judged bool `json:"judged"`
	// Reason says why the answer is off, in users' words.
	Reason string `json:"reason,omitempty"`
	// Classes holds one entry per label, in label order, when Judged.
	Classes []ClassSpread `json:"classes,omitempty"`
}

// ClassSpread is one class's part of Strangers.
type ClassSpread struct {
	// Centre is the class's mean feature vector (inception.Features
	// values), kept as float16: a cosine distance does not see the
	// difference. Empty for a class that had no training photo.
	Centre Half `json:"centre,omitempty"`
	// Median and Spread describe the class's training photos' cosine
	// distances to Centre: their median and robust deviation.
	Median float64 `json:"median"`
	Spread float64 `json:"spread"`
}

// Half is a float32 vector stored as float16: in JSON, the base64 of its
// little-endian float16 values.
type Half []float32

// MarshalJSON encodes h as base64 float16.
func (h Half) MarshalJSON() ([]byte, error) {
	b := make([]byte, 2*len(h))
	for i, v := range h {
		binary.LittleEndian.PutUint16(b[2*i:], float16.FromFloat32(v))
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

// UnmarshalJSON decodes base64 float16.
func (h *Half) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("float16 vector: %w", err)
	}
	if len(b)%2 != 0 {
		return fmt.Errorf("float16 vector of %d bytes", len(b))
	}
	v := make([]float32, len(b)/2)
	for i := range v {
		v[i] = float16.ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
	}
	*h = v
	return nil
}

func (s *Strangers) validate(labels int) error {
	if s == nil {
		return nil
	}
	if !s.Judged {
		if len(s.Classes) != 0 {
			return fmt.Errorf("model strangers: %d classes kept while not judged", len(s.Classes))
		}
		return nil
	}
	if len(s.Classes) != labels {
		return fmt.Errorf("model strangers: %d classes for %d labels", len(s.Classes), labels)
	}
	kept := 0
	for i, c := range s.Classes {
		if len(c.Centre) == 0 {
			continue
		}
		kept++
		if len(c.Centre) != inception.Features {
			return fmt.Errorf("model strangers: class %d's centre has %d values, want %d", i, len(c.Centre), inception.Features)
		}
		for _, v := range c.Centre {
			if v-v != 0 {
				return fmt.Errorf("model strangers: class %d's centre holds %v", i, v)
			}
		}
		if !(c.Spread > 0) || math.IsInf(c.Spread, 0) || math.IsNaN(c.Median) || math.IsInf(c.Median, 0) {
			return fmt.Errorf("model strangers: class %d has median %v and spread %v", i, c.Median, c.Spread)
		}
	}
	if kept == 0 {
		return fmt.Errorf("model strangers: no class centre")
	}
	return nil
}
