package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/train"
)

// TestTrainProgressNamesTheStage checks that the progress bar says what the
// image model computes: the features, then, when fine-tuning, its input.
func TestTrainProgressNamesTheStage(t *testing.T) {
	var out bytes.Buffer
	p := &trainPrinter{bar: newProgressBar(&out)}
	done := features.Progress{Done: 4, Total: 4}
	for _, ev := range []train.Event{
		train.PhaseStarted{Phase: train.Extracting}, train.Extraction{Progress: done},
		train.PhaseStarted{Phase: train.Caching}, train.Extraction{Progress: done},
	} {
		p.event(ev)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "features ") || !strings.HasPrefix(lines[1], "fine-tuning input ") {
		t.Errorf("progress lines %q, want a features line then a fine-tuning input line", lines)
	}
}
