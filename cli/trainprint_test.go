package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/ml/train"
)

// TestTrainWarningsAndNotes checks that a photo left out is printed as
// skipped, and a note about the whole run (which skips nothing) as a note.
func TestTrainWarningsAndNotes(t *testing.T) {
	var out bytes.Buffer
	p := &trainPrinter{bar: newProgressBar(&out)}
	p.event(train.Warning{Path: "/photos/cat/broken.jpg", Message: "/photos/cat/broken.jpg: truncated JPEG"})
	p.event(train.Warning{Message: "the classes changed since the model was trained: training a new head (cached features are reused)"})
	got := out.String()
	for _, want := range []string{"skipped: /photos/cat/broken.jpg: truncated JPEG\n", "note: the classes changed"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "skipped: the classes") || p.warnings != 1 {
		t.Errorf("a note counted as a skipped photo (%d):\n%s", p.warnings, got)
	}
}
