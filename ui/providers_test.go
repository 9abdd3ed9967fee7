package ui

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// TestSettingsProviders checks the Settings list of providers (each one
// this system may have, available or not with the reason) and the speed
// test, which measures the available ones in the background and offers
// the fastest.
func TestSettingsProviders(t *testing.T) {
	core := emptyApp(t)
	if _, err := core.Backbones.Import(context.Background(), mltest.Backbone(t)); err != nil {
		t.Fatal(err)
	}
	w := newTestWindow(t, core, true)
	w.showSettings()
	w.settle()
	p := w.settingsForm.providers
	if len(p.statuses) != len(onnxrt.AutoOrder(runtime.GOOS)) {
		t.Fatalf("statuses %+v", p.statuses)
	}
	shown := strings.Join(texts(p.list), "\n")
	for _, st := range p.statuses {
		want := "works here"
		if !st.Available {
			want = "not available: " + st.Reason
		}
		if !strings.Contains(shown, st.Name) || !strings.Contains(shown, want) {
			t.Errorf("Settings shows %q; want %s with %q", shown, st.Name, want)
		}
	}
	p.batch, p.seconds = 1, 0.01
	test.Tap(p.test)
	if p.cancel.Hidden || !p.test.Disabled() {
		t.Error("a running speed test shows no Cancel, or can be started twice")
	}
	w.settle()
	for _, st := range p.statuses {
		got := p.speeds[st.Provider].Text
		if st.Available != strings.HasSuffix(got, " images/s") {
			t.Errorf("%s (available %v): speed %q", st.Provider, st.Available, got)
		}
		if st.Available && !strings.Contains(p.lines[st.Provider].Text(), "ran on ") {
			t.Errorf("%s: %q does not say what ran", st.Provider, p.lines[st.Provider].Text())
		}
	}
	if p.use.Hidden || !strings.HasPrefix(p.use.Text, "Use ") || !p.cancel.Hidden {
		t.Errorf("after the test: use %q (hidden %v), cancel hidden %v", p.use.Text, p.use.Hidden, p.cancel.Hidden)
	}
	test.Tap(p.use)
	if got := w.settingsForm.provider.Selected; got != providerLabel(p.fastest) {
		t.Errorf("Use the fastest selected %q", got)
	}
	// Cancelling stops the test and says so.
	test.Tap(p.test)
	test.Tap(p.cancel)
	w.settle()
	if got := p.detail.Text(); got != "Speed test cancelled." || p.test.Disabled() || !p.cancel.Hidden {
		t.Errorf("after Cancel: %q, test disabled %v, cancel hidden %v", got, p.test.Disabled(), p.cancel.Hidden)
	}
}

// TestSettingsCUDAAdvice checks that Settings tells a user with an NVIDIA
// card, where CUDA cannot run (this library has no CUDA provider), what
// CUDA would give and how to get it — and says nothing without a card.
func TestSettingsCUDAAdvice(t *testing.T) {
	core := emptyApp(t)
	for _, c := range []struct {
		gpus []string
		want bool
	}{{[]string{"NVIDIA H200"}, true}, {nil, false}} {
		w := newTestWindow(t, core, true)
		w.nvidiaGPUs = func() []string { return c.gpus }
		w.showSettings()
		w.settle()
		p := w.settingsForm.providers
		shown := strings.Join(texts(p.list), "\n")
		cuda := false
		for _, st := range p.statuses {
			cuda = cuda || (st.Provider == onnxrt.CUDA && st.Available)
		}
		if cuda {
			t.Skip("CUDA runs here: no advice to give")
		}
		got := strings.Contains(shown, "Your NVIDIA H200 could do more with CUDA")
		if got != c.want {
			t.Errorf("GPUs %v: advice shown %v, want %v:\n%s", c.gpus, got, c.want, shown)
		}
		if c.want && (!strings.Contains(shown, "setup --runtime") || !strings.Contains(shown, "gpu-1.30")) {
			t.Errorf("the advice does not say how:\n%s", shown)
		}
	}
}
