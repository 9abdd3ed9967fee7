package model

import (
	"fmt"
	"time"
)

// maxHistory bounds the runs a model file remembers: the oldest are
// dropped, so that the record stays a few hundred bytes.
const maxHistory = 20

// Run is one training run in a model's history.
type Run struct {
	Date time.Time `json:"date"`
	// Photos counts the training photos.
	Photos int `json:"photos"`
	// Accuracy is on the Evaluated split ("test" or "validation"; empty
	// and 0 when there was none).
	Accuracy  float64 `json:"accuracy"`
	Evaluated string  `json:"evaluated,omitempty"`
	// Continued says that the run started from the previous model.
	Continued bool `json:"continued,omitempty"`
}

// AddRun appends r to the model's history, which starts from base's when
// the model continues it, keeping the last runs.
func (m *Model) AddRun(base *Model, r Run) {
	var h []Run
	if base != nil {
		h = append(h, base.History...)
	}
	h = append(h, r)
	if len(h) > maxHistory {
		h = h[len(h)-maxHistory:]
	}
	m.History = h
}

func validateHistory(h []Run) error {
	if len(h) > maxHistory {
		return fmt.Errorf("model history has %d runs, more than %d", len(h), maxHistory)
	}
	for _, r := range h {
		if r.Photos < 0 || r.Accuracy < 0 || r.Accuracy > 1 || r.Accuracy != r.Accuracy {
			return fmt.Errorf("model history run %+v is out of range", r)
		}
	}
	return nil
}
