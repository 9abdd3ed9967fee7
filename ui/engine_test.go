package ui

import (
	"path/filepath"
	"testing"
)

// TestSettingsChangesCloseEngines changes the image model's settings ten
// times in a row, faster than the engines open, as a person trying thread
// counts does. Each change supersedes the previous one's job, so what the
// window shows comes from the latest settings, and the engines of the
// earlier settings are closed rather than kept until the window closes.
func TestSettingsChangesCloseEngines(t *testing.T) {
	w := newTestWindow(t, sharedApp(t), true)
	if w.engine.err != nil || w.engines.Len() != 1 {
		t.Fatalf("at start: %+v, %d engines open", w.engine, w.engines.Len())
	}
	s := w.settings
	for i := range 9 {
		s.Threads = 1 + i%3
		w.setSettings(s)
	}
	// The tenth change names a runtime library that is not there: the
	// window must say so, whatever the nine jobs before it found.
	good := s.Runtime
	s.Runtime = filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	w.setSettings(s)
	w.settle()
	if w.engine.err == nil || w.engine.preparing {
		t.Errorf("after the last change to a missing runtime: %+v, want its error", w.engine)
	}
	if n := w.engines.Len(); n != 0 {
		t.Errorf("%d engines open after ten changes of settings, the last one failing; want none", n)
	}
	s.Runtime = good
	w.setSettings(s)
	w.settle()
	if w.engine.err != nil || w.engine.device != "CPU" {
		t.Errorf("back to a good runtime: %+v", w.engine)
	}
	if n := w.engines.Len(); n != 1 {
		t.Errorf("%d engines open, want the latest settings' one", n)
	}
}
