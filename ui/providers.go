package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clasifica/clasifica/ui/widgets"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// providerPanel is the part of Settings about where the image model can
// run: what each provider can do with this library on this machine (and
// why not), and a speed test that measures each one that can.
type providerPanel struct {
	w      *window
	form   *settingsForm
	list   *fyne.Container
	test   *widget.Button
	cancel *widget.Button
	bar    *widget.ProgressBar
	detail *widgets.Subtle
	// speeds and lines are each provider's speed-test result and its
	// line of explanation in the list.
	speeds   map[onnxrt.Provider]*widget.Label
	lines    map[onnxrt.Provider]*widgets.Subtle
	use      *widget.Button
	content  fyne.CanvasObject
	task     task
	statuses []app.ProviderStatus
	fastest  onnxrt.Provider
	// batch and seconds size the speed test: long enough to be steady,
	// short enough to wait for.
	batch   int
	seconds float64
}

func newProviderPanel(w *window, f *settingsForm) *providerPanel {
	p := &providerPanel{w: w, form: f, list: container.NewVBox(widgets.Caption("Checking what this computer offers…")),
		bar: widget.NewProgressBar(), detail: widgets.Caption(""), batch: 8, seconds: 3}
	p.detail.Wrapping = fyne.TextWrapWord
	p.test = widget.NewButtonWithIcon("Test speed", theme.MediaPlayIcon(), p.runTest)
	p.test.Disable()
	p.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { p.task.stop() })
	p.cancel.Hide()
	p.bar.Hide()
	p.use = widget.NewButton("", func() { p.choose(p.fastest) })
	p.use.Hide()
	p.detail.Hide()
	// The reasons can be long (which file is missing, where to get it):
	// the list scrolls rather than push the dialog off small screens.
	list := container.NewVScroll(p.list)
	list.SetMinSize(fyne.NewSize(0, 230))
	p.content = container.NewVBox(list,
		container.NewBorder(nil, nil, container.NewHBox(p.test, p.cancel), p.use, p.bar),
		p.detail)
	opt := w.settings.EngineOptions()
	w.jobs.start(func() {
		st, err := w.core.Providers(opt.Runtime, false)
		fyne.Do(func() { p.showStatuses(st, err) })
	})
	return p
}

// showStatuses lists the providers: available ones with their device,
// the others with the reason.
func (p *providerPanel) showStatuses(st []app.ProviderStatus, err error) {
	p.list.RemoveAll()
	if err != nil {
		l := widgets.Caption("Cannot check: " + app.PlainError(err))
		l.Wrapping = fyne.TextWrapWord
		p.list.Add(l)
		return
	}
	p.statuses = st
	p.speeds, p.lines = map[onnxrt.Provider]*widget.Label{}, map[onnxrt.Provider]*widgets.Subtle{}
	for _, s := range st {
		if s.Available {
			auto := widgets.Caption("Automatic uses " + s.Name + " here: the first that works of " + names(st) + ".")
			auto.Wrapping = fyne.TextWrapWord
			p.list.Add(auto)
			break
		}
	}
	// The ones that work first: they are what can be chosen.
	sorted := slices.Clone(st)
	slices.SortStableFunc(sorted, func(a, b app.ProviderStatus) int {
		switch {
		case a.Available && !b.Available:
			return -1
		case b.Available && !a.Available:
			return 1
		}
		return 0
	})
	advice := app.AdviseCUDA(st, p.w.nvidiaGPUs())
	for _, s := range sorted {
		icon := widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		text := "works here"
		if s.Device != "" {
			text += ": " + s.Device
		}
		if !s.Available {
			icon = widget.NewIcon(theme.NewDisabledResource(theme.CancelIcon()))
			text = "not available: " + s.Reason
		}
		line := widgets.Caption(text)
		line.Wrapping = fyne.TextWrapWord
		name := widgets.Bold(s.Name)
		speed := widgets.Bold("")
		p.speeds[s.Provider], p.lines[s.Provider] = speed, line
		// A fixed column for the names lines up the explanations; the
		// speed test's result goes on the right, side by side.
		left := container.NewHBox(icon, container.NewGridWrap(fyne.NewSize(80, name.MinSize().Height), name))
		p.list.Add(container.NewBorder(nil, nil, container.NewVBox(left), container.NewVBox(speed), line))
		// What CUDA would give goes under CUDA's reason, where it is read.
		if s.Provider == onnxrt.CUDA && advice != nil {
			p.list.Add(container.NewPadded(cudaAdvice(advice)))
		}
	}
	if !p.task.running() {
		p.test.Enable()
	}
}

// runTest measures each available provider in the background; the panel
// shows progress and the results side by side.
func (p *providerPanel) runTest() {
	ctx, id := p.task.begin()
	p.test.Disable()
	p.cancel.Show()
	p.use.Hide()
	p.bar.SetValue(0)
	p.bar.Show()
	p.detail.SetText("Checking what this computer offers…")
	p.detail.Show()
	opt := app.BenchOptions{Engine: p.w.settings.EngineOptions(), Batches: []int{p.batch}, Seconds: p.seconds}
	start := time.Now()
	p.w.jobs.start(func() {
		// Probe afresh: a driver installed since the answer was cached
		// shows up here, and the cache is corrected.
		st, err := p.w.core.Providers(opt.Engine.Runtime, true)
		for _, s := range st {
			if s.Available {
				opt.Providers = append(opt.Providers, s.Provider)
			}
		}
		if err == nil && len(opt.Providers) == 0 {
			err = errors.New("no provider can run the image model here")
		}
		var res *app.BenchResult
		if err == nil {
			fyne.DoAndWait(func() { p.showStatuses(st, nil) })
			res, err = p.w.core.Bench(ctx, opt, func(bp app.BenchProgress) {
				fyne.Do(func() {
					if p.task.current(id) {
						p.progress(bp, time.Since(start))
					}
				})
			})
		}
		fyne.Do(func() {
			if p.task.done(id) {
				p.finish(res, err)
			}
		})
	})
}

// progress shows which provider is measured, how many are done and the
// time left.
func (p *providerPanel) progress(bp app.BenchProgress, elapsed time.Duration) {
	done := float64(bp.Done) + bp.Fraction
	if bp.Total > 0 {
		p.bar.SetValue(done / float64(bp.Total))
	}
	text := fmt.Sprintf("Measuring %s (%d of %d)", bp.Provider, min(bp.Done+1, bp.Total), bp.Total)
	switch {
	case bp.Batch == 0:
		text = fmt.Sprintf("Opening the image model on %s (%d of %d)", bp.Provider, min(bp.Done+1, bp.Total), bp.Total)
	case bp.Rate == 0:
		text += ", warming up"
	default:
		text += fmt.Sprintf(", %.1f images/s", bp.Rate)
	}
	if done > 0 && bp.Done < bp.Total {
		left := time.Duration(float64(elapsed) / done * (float64(bp.Total) - done))
		text += fmt.Sprintf(", about %s left", left.Round(time.Second))
	}
	p.detail.SetText(text + "…")
	if bp.Row != nil {
		p.addRow(*bp.Row)
	}
}

// addRow shows one provider's result in its row of the list.
func (p *providerPanel) addRow(r app.BenchRow) {
	speed, line := p.speeds[r.Provider], p.lines[r.Provider]
	if speed == nil {
		return
	}
	if r.Error != "" {
		speed.SetText("—")
		line.SetText("could not be measured: " + r.Error)
		return
	}
	speed.SetText(fmt.Sprintf("%.1f images/s", r.Best()))
	line.SetText("works here; ran on " + r.RunsOn.Name)
}

// finish shows the outcome and offers the fastest provider.
func (p *providerPanel) finish(res *app.BenchResult, err error) {
	p.cancel.Hide()
	p.bar.Hide()
	p.test.Enable()
	switch {
	case app.IsCancel(err):
		p.detail.SetText("Speed test cancelled.")
		return
	case err != nil:
		p.detail.SetText("Speed test failed: " + app.PlainError(err))
		return
	}
	best := 0.0
	for _, r := range res.Rows {
		if r.Error == "" && r.Best() > best {
			best, p.fastest = r.Best(), r.RunsOn.Provider
		}
	}
	p.detail.SetText(fmt.Sprintf("Speed: photos per second through the image model, in batches of %d.", res.Batches[0]))
	if best > 0 {
		p.use.SetText("Use " + p.fastest.String())
		p.use.Show()
	}
}

// choose selects provider pr in the form.
func (p *providerPanel) choose(pr onnxrt.Provider) {
	if l := providerLabel(pr); l != "" {
		p.form.provider.SetSelected(l)
	}
}

// providerLabel is the Settings choice for pr.
func providerLabel(pr onnxrt.Provider) string {
	for _, c := range providerChoices {
		if c.value == pr {
			return c.label
		}
	}
	return ""
}

// names lists the providers' names in order: "CUDA, WebGPU, CPU".
func names(st []app.ProviderStatus) string {
	var out []string
	for _, s := range st {
		out = append(out, s.Name)
	}
	return strings.Join(out, ", ")
}
