package ui

import (
	"context"
	"testing"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/mltest"
)

// TestSettingsPrecision opens Settings on a computer where 8 bits were
// never checked: the Precision row says what is in use and why, and that
// float is used until a check; choosing float is saved and loaded again,
// and reopens the engine in float.
func TestSettingsPrecision(t *testing.T) {
	core := emptyApp(t)
	if _, err := core.Backbones.Import(context.Background(), mltest.Backbone(t)); err != nil {
		t.Fatal(err)
	}
	w := newTestWindow(t, core, true)
	w.settle()
	if w.engine.precision != app.PrecisionFloat || w.engine.precisionReason == "" {
		t.Fatalf("engine precision %q (%q)", w.engine.precision, w.engine.precisionReason)
	}
	w.showSettings()
	w.settle()
	r := w.settingsForm.precision
	if r.choice.Selected != precisionChoices[0].label {
		t.Errorf("precision chosen: %q, want Automatic", r.choice.Selected)
	}
	mustShow(t, r.content, "In use: float, until 8 bits are checked", "a minute or two, once", "Check 8 bits")
	r.choice.SetSelected(precisionChoices[1].label)
	w.settingsForm.apply(w.window)
	w.settle()
	if got := w.fa.Preferences().String(prefPrecision); got != "float" {
		t.Errorf("saved precision %q", got)
	}
	if s, _ := loadSettings(w.fa.Preferences()); s.Precision != "float" || s.EngineOptions().Precision != app.PrecisionFloat {
		t.Errorf("loaded %+v", s)
	}
	if w.engine.precision != app.PrecisionFloat || w.engine.precisionReason != "asked for" {
		t.Errorf("after choosing float: %q (%q)", w.engine.precision, w.engine.precisionReason)
	}
}
