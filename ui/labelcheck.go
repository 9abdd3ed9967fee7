package ui

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/doctor"
	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"
)

// The three lists of the label check.
const (
	listWrong = iota
	listCopies
	listStrangers
	numLists
)

// checkItem is one line of the label check's lists: a photo that may be
// in the wrong folder, a pair of near-copies, or a stranger.
type checkItem struct {
	list      int
	paths     []string // one photo, or the two of a pair
	labels    []string // their classes
	splits    []string // for pairs
	suggested string   // the likely class of a suspect
	score     float64
}

// key identifies an item for the selection.
func (it checkItem) key() string { return fmt.Sprint(it.list, it.paths) }

// labelCheck is the "Check labels" view: the doctor's three lists with
// thumbnails, and the fixes (move, relabel in Clasifica only, it's right,
// leave out) with undo. It opens over the window as a large dialog, from
// the Data screen or from a cell of the Results' confusion matrix
// (filtered to that pair of classes).
type labelCheck struct {
	w    *window
	task task

	report  *doctor.Report // the last check, confirmed photos hidden
	dataset *dataset.Dataset
	items   [numLists][]checkItem
	pair    []string // the two classes shown, or nil for all
	chosen  map[string]bool
	undo    []checkUndo
	fixing  bool // a batch of fixes is running

	dlg      dialog.Dialog
	intro    fyne.CanvasObject
	running  fyne.CanvasObject
	results  fyne.CanvasObject
	body     *fyne.Container
	bar      *widget.ProgressBar
	stage    *widgets.Subtle
	summary  *widgets.Subtle
	filter   *fyne.Container
	tabs     *container.AppTabs
	lists    [numLists]*widget.List
	empty    [numLists]*widget.Label // what an empty list means
	selBar   *fyne.Container
	selText  *widget.Label
	undoBtn  *widget.Button
	message  *widgets.Subtle
	errText  *widget.Label
	startBtn *widget.Button
}

// checkUndo is one action of the view: its fixes and the lines it took
// out of the lists.
type checkUndo struct {
	fixes []app.Fix
	items []checkItem
}

func newLabelCheck(w *window) *labelCheck {
	c := &labelCheck{w: w, chosen: map[string]bool{}}
	c.startBtn = widget.NewButtonWithIcon("Check the labels", theme.SearchIcon(), c.start)
	c.startBtn.Importance = widget.HighImportance
	c.errText = widgets.Wrapped("")
	c.errText.Hide()
	explain := widgets.Wrapped("Clasifica looks at every photo with its image model and lists the photos that are probably " +
		"in the wrong folder, pairs of photos that are the same shot (a copy in training and one in the test makes " +
		"the results look better than they are), and photos unlike every kind. It needs the features of every photo: " +
		"those not computed yet are worked out first, which takes a while on a large folder. Nothing is changed " +
		"until you choose a fix, and every fix can be undone.")
	c.intro = container.NewVBox(explain, container.NewHBox(c.startBtn), c.errText)

	c.bar = widget.NewProgressBar()
	c.stage = widgets.Caption("")
	stop := widget.NewButtonWithIcon("Stop", theme.CancelIcon(), c.stop)
	c.running = container.NewVBox(widgets.Bold("Checking the labels…"), c.bar, c.stage, container.NewHBox(stop))

	c.summary = widgets.Caption("")
	c.summary.Wrapping = fyne.TextWrapWord
	c.filter = container.NewHBox()
	for i := range c.lists {
		c.lists[i] = c.newList(i)
	}
	for i := range c.empty {
		c.empty[i] = widgets.Wrapped("")
	}
	c.tabs = container.NewAppTabs(
		container.NewTabItem("Wrong folder?", container.NewStack(c.lists[listWrong], container.NewVBox(c.empty[listWrong]))),
		container.NewTabItem("Near-copies", container.NewStack(c.lists[listCopies], container.NewVBox(c.empty[listCopies]))),
		container.NewTabItem("Strangers", container.NewStack(c.lists[listStrangers], container.NewVBox(c.empty[listStrangers]))),
	)
	c.selText = widget.NewLabel("")
	c.selBar = container.NewHBox(c.selText,
		widget.NewButton("Fix as suggested", func() { c.applyChosen(fixSuggested) }),
		widget.NewButton("It's right", func() { c.applyChosen(app.FixRight) }),
		widget.NewButton("Leave out", func() { c.applyChosen(app.FixLeaveOut) }),
		widget.NewButton("Clear", func() { c.chosen = map[string]bool{}; c.refreshLists() }))
	c.selBar.Hide()
	c.undoBtn = widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), c.undoLast)
	c.undoBtn.Disable()
	c.message = widgets.Caption("")
	c.message.Wrapping = fyne.TextWrapWord
	again := widget.NewButtonWithIcon("Check again", theme.ViewRefreshIcon(), c.start)
	again.Importance = widget.LowImportance
	bottom := container.NewBorder(nil, nil, c.undoBtn, again, c.message)
	// The selection's buttons sit in the free space right of the tab
	// titles: a bar of their own above the list pushed the list down
	// under the pointer when the first box was ticked, and hid the row
	// just ticked on a 600-pixel-high screen.
	tabs := container.NewStack(c.tabs, container.NewVBox(container.NewHBox(layout.NewSpacer(), c.selBar)))
	c.results = container.NewBorder(container.NewVBox(c.summary, c.filter), bottom, nil, nil, tabs)

	c.body = container.NewStack(c.intro, c.running, c.results)
	return c
}

// open shows the view; pair, if given, limits the lists to photos of two
// classes (a confusion-matrix cell).
func (c *labelCheck) open(pair ...string) {
	if len(pair) == 2 && pair[0] != pair[1] {
		c.pair = pair
		// A confusion-matrix cell asks about the photos of two kinds
		// that the model mixed up: the wrong-folder list first.
		c.tabs.SelectIndex(listWrong)
	} else {
		c.pair = nil
	}
	if d := c.w.doc.data; c.dataset != nil && (d == nil || d.Root != c.dataset.Root || d.Options.Granularity != c.dataset.Options.Granularity) {
		// Another folder or labelling: the lists are not about it.
		c.report, c.undo, c.dataset = nil, nil, nil
	} else if c.report != nil {
		// The same folder, perhaps read again: fixes apply to the new scan.
		c.dataset = d
	}
	c.show()
	if c.dlg == nil {
		c.dlg = dialog.NewCustom("Check labels", "Close", c.body, c.w.win)
		c.dlg.SetOnClosed(func() { c.task.stop() })
	}
	size := c.w.win.Canvas().Size()
	c.dlg.Resize(fyne.NewSize(max(size.Width-40, 600), max(size.Height-30, 400)))
	c.dlg.Show()
}

// show displays the state: the intro, the check running, or its lists.
func (c *labelCheck) show() {
	for _, o := range c.body.Objects {
		o.Hide()
	}
	switch {
	case c.task.running():
		c.running.Show()
	case c.report != nil:
		c.fill()
		c.results.Show()
	default:
		c.intro.Show()
	}
	c.startBtn.Disable()
	if c.w.doc.data != nil && !c.w.busy() {
		c.startBtn.Enable()
	}
	c.body.Refresh()
}

// stop ends a running check and says what is kept: back on the intro
// without a word, Stop looked like it had lost the work.
func (c *labelCheck) stop() {
	c.task.stop()
	c.errText.SetText("Stopped. The photos it looked at are remembered: checking again goes on from there.")
	c.errText.Show()
	// With lists from an earlier check, those come back.
	c.message.SetText("Stopped: these are the lists of the last check.")
	c.show()
}

// start runs the check in the background on the document's photos.
func (c *labelCheck) start() {
	doc := &c.w.doc
	if doc.data == nil {
		return
	}
	if c.w.busy() {
		c.w.inform("Training is running", "Stop the training before checking the labels.")
		return
	}
	ctx, id := c.task.begin()
	d, opt := doc.data, doc.dataOpt
	c.errText.Hide()
	c.bar.SetValue(0)
	c.stage.SetText("Starting the image model…")
	c.show()
	engOpt := c.w.settings.EngineOptions()
	c.w.jobs.start(func() {
		th := newThrottle()
		progress := func(p app.CheckProgress) {
			if !th.pass(p.Done, p.Total) {
				return
			}
			fyne.Do(func() {
				if c.task.current(id) {
					c.showProgress(p)
				}
			})
		}
		eng, release, err := c.w.engines.Open(ctx, engOpt)
		defer release()
		var rep doctor.Report
		if err == nil {
			rep, err = c.w.core.CheckLabels(ctx, eng, app.CheckLabelsRequest{Dataset: d, DataOptions: opt}, progress)
		}
		if err == nil {
			rep, err = c.w.core.HideConfirmed(d.Root, rep)
		}
		straddle := false
		if err == nil {
			// Every later scan keeps each pair on one side of the
			// training/test divide.
			straddle, err = c.w.core.RecordNearCopies(d.Root, rep.NearDuplicates)
		}
		fyne.Do(func() {
			if !c.task.done(id) {
				return
			}
			switch {
			case err != nil && app.IsCancel(err):
			case err != nil:
				e := explain(err)
				c.errText.SetText(e.what + " " + e.todo)
				c.errText.Show()
			default:
				c.report, c.dataset, c.undo = &rep, d, nil
				c.chosen = map[string]bool{}
				c.message.SetText("")
				if straddle && c.w.doc.data == d {
					// Pairs across splits change the split: read the
					// folder again, and keep the lists for the new scan.
					c.w.data.scan(c.w.doc.folder, c.w.doc.dataOpt, func() { c.dataset = c.w.doc.data })
				}
			}
			c.show()
		})
	})
}

// showProgress shows how far the check has come.
func (c *labelCheck) showProgress(p app.CheckProgress) {
	if p.Total > 0 {
		c.bar.SetValue(float64(p.Done) / float64(p.Total))
	}
	var text string
	switch p.Stage {
	case app.CheckScanning:
		text = fmt.Sprintf("Reading the folder: %s of %s files", words.Thousands(p.Done), words.Thousands(p.Total)) + timeLeft(p.Progress)
	case app.CheckExtracting:
		text = fmt.Sprintf("Looking at the photos: %s of %s", words.Thousands(p.Done), words.Thousands(p.Total))
		if r := p.Rate(); r > 0 && p.Done < p.Total {
			text += fmt.Sprintf(" · %.0f photos/s", r) + timeLeft(p.Progress)
		}
	case app.CheckFingerprints:
		text = fmt.Sprintf("Fingerprinting the photos: %s of %s", words.Thousands(p.Done), words.Thousands(p.Total)) + timeLeft(p.Progress)
	case app.CheckSuspects:
		text = "Finding photos that look like another kind…"
	case app.CheckNearCopies:
		text = "Finding near-copies…"
	case app.CheckStrangers:
		text = "Finding photos unlike every kind…"
	}
	c.stage.SetText(text)
}

// timeLeft is " · about a minute left" while a step's time left is known.
func timeLeft(p progress.Progress) string {
	if p.Done >= p.Total {
		return ""
	}
	if left := words.RoughDuration(p.Remaining()); left != "" {
		return " · " + left + " left"
	}
	return ""
}

// inPair reports whether the classes are within the filter.
func (c *labelCheck) inPair(classes ...string) bool {
	if c.pair == nil {
		return true
	}
	for _, l := range classes {
		if l != "" && l != c.pair[0] && l != c.pair[1] {
			return false
		}
	}
	return true
}

// fill builds the lists from the report and the filter.
func (c *labelCheck) fill() {
	r := c.report
	for i := range c.items {
		c.items[i] = nil
	}
	for _, s := range r.Mislabeled {
		if c.inPair(s.Label, s.Suggested) {
			c.items[listWrong] = append(c.items[listWrong], checkItem{list: listWrong, paths: []string{s.Path}, labels: []string{s.Label}, suggested: s.Suggested, score: s.Score})
		}
	}
	for _, p := range r.NearDuplicates {
		if c.inPair(p.Labels[0], p.Labels[1]) {
			c.items[listCopies] = append(c.items[listCopies], checkItem{list: listCopies, paths: p.Paths[:], labels: p.Labels[:], splits: p.Splits[:], score: p.Similarity})
		}
	}
	for _, s := range r.Outliers {
		if c.inPair(s.Label) {
			c.items[listStrangers] = append(c.items[listStrangers], checkItem{list: listStrangers, paths: []string{s.Path}, labels: []string{s.Label}, score: s.Score})
		}
	}
	c.fillFilter()
	c.refreshLists()
}

// fillFilter says which photos the lists show, and what the check could
// not judge.
func (c *labelCheck) fillFilter() {
	r := c.report
	var notes []string
	if !r.StrangersJudged {
		reason := r.StrangersReason
		if reason == "" {
			reason = "this image model cannot tell photos unlike every kind from the others"
		}
		reason = strings.TrimRight(reason, ".")
		notes = append(notes, "Strangers were not looked for. "+strings.ToUpper(reason[:1])+reason[1:]+".")
	}
	notes = append(notes, r.Warnings...)
	text := ""
	for i, n := range notes {
		if i > 0 {
			text += " "
		}
		// The doctor's warnings are sentences without a full stop (the
		// CLI prints one a line); run together, they need one.
		text += n
		if !strings.HasSuffix(n, ".") {
			text += "."
		}
	}
	c.summary.SetText(text)
	c.summary.Hidden = text == ""
	c.filter.RemoveAll()
	if c.pair != nil {
		c.filter.Add(widget.NewLabel(fmt.Sprintf("Only photos of %s and %s.", c.pair[0], c.pair[1])))
		all := widget.NewButton("Show all", func() { c.pair = nil; c.fill() })
		all.Importance = widget.LowImportance
		c.filter.Add(all)
	}
	c.filter.Refresh()
}

// refreshLists updates the tab titles, the lists and the selection bar.
func (c *labelCheck) refreshLists() {
	names := [numLists]string{"Wrong folder?", "Near-copies", "Strangers"}
	for i, it := range c.tabs.Items {
		it.Text = fmt.Sprintf("%s (%d)", names[i], len(c.items[i]))
		c.lists[i].Refresh()
		c.empty[i].SetText(c.emptyText(i))
		c.empty[i].Hidden = len(c.items[i]) > 0
	}
	if c.report != nil && !c.report.StrangersJudged {
		// "(0)" would claim that none were found.
		c.tabs.Items[listStrangers].Text = names[listStrangers] + " (not judged)"
	}
	c.tabs.Refresh()
	n := 0
	for _, on := range c.chosen {
		if on {
			n++
		}
	}
	c.selText.SetText(words.Plural(n, "photo chosen:", "photos chosen:"))
	c.selBar.Hidden = n == 0
	c.selBar.Refresh()
	c.undoBtn.Disable()
	if len(c.undo) > 0 {
		c.undoBtn.Enable()
		c.undoBtn.SetText("Undo: " + c.undo[len(c.undo)-1].fixes[0].Describe())
	} else {
		c.undoBtn.SetText("Undo")
	}
}

// emptyText says what an empty list means: nothing found, nothing left
// after the fixes, nothing between the two classes shown, or (for
// strangers) that the image model cannot judge.
func (c *labelCheck) emptyText(list int) string {
	r := c.report
	if r == nil {
		return ""
	}
	if list == listStrangers && !r.StrangersJudged {
		return "Not judged: this image model cannot tell photos unlike every kind from the others (see above)."
	}
	if list == listWrong && len(r.Mislabeled) == 0 && len(r.Warnings) > 0 {
		return "No suggestions: see the note above."
	}
	what := [numLists]string{
		"No photo looks like it is in the wrong folder.",
		"No two photos are the same shot.",
		"No photo is unlike every kind.",
	}[list]
	if c.pair != nil {
		what = strings.TrimSuffix(what, ".") + fmt.Sprintf(" among the photos of %s and %s.", c.pair[0], c.pair[1])
	}
	return what
}

// newList makes the list of one tab.
func (c *labelCheck) newList(list int) *widget.List {
	l := widget.NewList(
		func() int { return len(c.items[list]) },
		func() fyne.CanvasObject { return newCheckRow(c.w.thumbs) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(c.items[list]) {
				c.updateRow(c.items[list][id], o.(*checkRow))
			}
		})
	l.OnSelected = func(widget.ListItemID) { l.UnselectAll() }
	return l
}

// updateRow fills a row with an item and its actions.
func (c *labelCheck) updateRow(it checkItem, r *checkRow) {
	key := it.key()
	r.check.OnChanged = nil
	r.check.SetChecked(c.chosen[key])
	r.check.OnChanged = func(on bool) { c.chosen[key] = on; c.refreshLists() }
	r.thumbs[0].SetPath(it.paths[0])
	r.thumbs[1].Hidden = len(it.paths) < 2
	if len(it.paths) > 1 {
		r.thumbs[1].SetPath(it.paths[1])
	}
	switch it.list {
	case listWrong:
		r.title.SetText(filepath.Base(it.paths[0]))
		r.detail.SetText(fmt.Sprintf("In %s · probably %s · %s sure", it.labels[0], it.suggested, words.Percent(it.score)))
	case listCopies:
		r.title.SetText(fmt.Sprintf("%s (%s) ≈ %s (%s)", filepath.Base(it.paths[0]), it.splits[0], filepath.Base(it.paths[1]), it.splits[1]))
		what := "The same shot twice"
		if it.splits[0] != it.splits[1] {
			what = fmt.Sprintf("The same shot in %s and %s: the %s score counts a photo the model has learned from", it.splits[0], it.splits[1], nonTrain(it.splits))
		}
		if it.labels[0] != it.labels[1] {
			what += fmt.Sprintf("; filed as %s and as %s", it.labels[0], it.labels[1])
		}
		r.detail.SetText(fmt.Sprintf("%s · %s alike", what, words.Percent(it.score)))
	default:
		r.title.SetText(filepath.Base(it.paths[0]))
		r.detail.SetText(fmt.Sprintf("In %s · unlike every kind · %s", it.labels[0], words.Percent(it.score)))
	}
	primary, more := c.actions(it)
	r.primary.SetText(primary.Label)
	r.primary.OnTapped = primary.Action
	r.more.OnTapped = func() {
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(r.more)
		widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", more...), c.w.win.Canvas(), pos.Add(fyne.NewPos(0, r.more.Size().Height)))
	}
	r.Refresh()
}

// nonTrain names the held-out split of a pair.
func nonTrain(splits []string) string {
	for _, s := range splits {
		if s != dataset.Train.String() {
			return s
		}
	}
	return splits[1]
}

// fixSuggested applies the fix an item suggests: the move (or, where a
// move is impossible, the relabel) of a suspect, leaving out the
// training-side copy of a pair or a stranger.
const fixSuggested app.FixKind = "suggested"

// actions returns an item's main action and its menu.
func (c *labelCheck) actions(it checkItem) (*fyne.MenuItem, []*fyne.MenuItem) {
	canMove := app.CanMove(c.dataset)
	one := func(kind app.FixKind, path, class string) func() {
		return func() { c.apply([]fixRequest{{kind: kind, path: path, class: class}}, []checkItem{it}) }
	}
	var primary *fyne.MenuItem
	var more []*fyne.MenuItem
	switch it.list {
	case listWrong, listStrangers:
		p := it.paths[0]
		if it.suggested != "" {
			if canMove {
				primary = fyne.NewMenuItem("Move to "+it.suggested, one(app.FixMove, p, it.suggested))
			} else {
				primary = fyne.NewMenuItem("Count as "+it.suggested, one(app.FixRelabel, p, it.suggested))
			}
			if canMove {
				more = append(more, fyne.NewMenuItem("Count as "+it.suggested+" in Clasifica only", one(app.FixRelabel, p, it.suggested)))
			}
		} else {
			primary = fyne.NewMenuItem("Leave out of training", one(app.FixLeaveOut, p, ""))
		}
		if canMove {
			more = append(more, fyne.NewMenuItem("Move to…", func() { c.chooseClass(it, app.FixMove) }))
		}
		more = append(more,
			fyne.NewMenuItem("Count as… in Clasifica only", func() { c.chooseClass(it, app.FixRelabel) }),
			fyne.NewMenuItem("It's right: don't suggest again", one(app.FixRight, p, "")))
		if it.suggested != "" {
			more = append(more, fyne.NewMenuItem("Leave out of training", one(app.FixLeaveOut, p, "")))
		}
	case listCopies:
		drop := trainingSide(it)
		primary = fyne.NewMenuItem("Leave out "+filepath.Base(it.paths[drop]), one(app.FixLeaveOut, it.paths[drop], ""))
		other := 1 - drop
		more = append(more,
			fyne.NewMenuItem("Leave out "+filepath.Base(it.paths[other]), one(app.FixLeaveOut, it.paths[other], "")),
			fyne.NewMenuItem("They are different photos", func() {
				c.apply([]fixRequest{{kind: app.FixRight, path: it.paths[0]}, {kind: app.FixRight, path: it.paths[1]}}, []checkItem{it})
			}))
	}
	return primary, more
}

// trainingSide returns which photo of a pair to leave out: the one in
// training when the other is held out (the held-out photos must stay the
// same, so that before and after compare the same photos), else the
// second.
func trainingSide(it checkItem) int {
	if it.splits[0] != it.splits[1] && it.splits[0] == dataset.Train.String() {
		return 0
	}
	return 1
}

// chooseClass asks for a class (or a new one) to move or relabel to.
func (c *labelCheck) chooseClass(it checkItem, kind app.FixKind) {
	classes := slices.Clone(c.dataset.Classes)
	entry := widget.NewSelectEntry(classes)
	entry.SetPlaceHolder("a kind, or a new one")
	title := "Move to"
	if kind == app.FixRelabel {
		title = "Count in Clasifica as"
	}
	d := dialog.NewForm(title, "OK", "Cancel", []*widget.FormItem{widget.NewFormItem("Kind", entry)}, func(ok bool) {
		if ok && entry.Text != "" {
			c.apply([]fixRequest{{kind: kind, path: it.paths[0], class: entry.Text}}, []checkItem{it})
		}
	}, c.w.win)
	d.Resize(fyne.NewSize(420, 200))
	d.Show()
}

// fixRequest is one fix to apply.
type fixRequest struct {
	kind        app.FixKind
	path, class string
}

// applyChosen applies one kind of fix to every chosen item.
func (c *labelCheck) applyChosen(kind app.FixKind) {
	var reqs []fixRequest
	var items []checkItem
	for list := range c.items {
		for _, it := range c.items[list] {
			if !c.chosen[it.key()] {
				continue
			}
			switch {
			case kind == fixSuggested && it.list == listCopies:
				reqs = append(reqs, fixRequest{kind: app.FixLeaveOut, path: it.paths[trainingSide(it)]})
			case kind == fixSuggested && it.suggested != "" && app.CanMove(c.dataset):
				reqs = append(reqs, fixRequest{kind: app.FixMove, path: it.paths[0], class: it.suggested})
			case kind == fixSuggested && it.suggested != "":
				reqs = append(reqs, fixRequest{kind: app.FixRelabel, path: it.paths[0], class: it.suggested})
			case kind == fixSuggested:
				reqs = append(reqs, fixRequest{kind: app.FixLeaveOut, path: it.paths[0]})
			default:
				for _, p := range it.paths {
					reqs = append(reqs, fixRequest{kind: kind, path: p})
				}
			}
			items = append(items, it)
		}
	}
	c.chosen = map[string]bool{}
	c.apply(reqs, items)
}

// apply runs fixes on the document's dataset: each photo is found in the
// current scan, fixed (moved, relabelled, confirmed or left out), and the
// scan updated in memory so that the Data screen's counts and split follow
// without rereading the photos. Fixed items leave the lists; Undo brings
// them back.
func (c *labelCheck) apply(reqs []fixRequest, items []checkItem) {
	doc := &c.w.doc
	start := doc.data
	if start == nil || len(reqs) == 0 || c.fixing {
		return
	}
	// Each fix rewrites the decision record or moves a file: a batch runs
	// off the UI goroutine, and one batch at a time.
	c.fixing = true
	c.message.SetText(fmt.Sprintf("Fixing %s…", words.Plural(len(reqs), "photo", "photos")))
	c.w.jobs.start(func() {
		d := start
		var done []app.Fix
		var failed error
		for _, r := range reqs {
			p, err := app.FindPhoto(d, r.path)
			if err == nil {
				var f app.Fix
				if f, err = c.w.core.ApplyFix(d, p, r.kind, r.class); err == nil {
					done = append(done, f)
					// Later fixes in the batch see this one.
					d = d.WithChanges([]dataset.Change{f.Change})
					continue
				}
			}
			failed = err
			break
		}
		fyne.Do(func() {
			c.fixing = false
			c.message.SetText("")
			if len(done) > 0 {
				c.undo = append(c.undo, checkUndo{fixes: done, items: items})
				c.remove(items)
				c.dataset = d
				if doc.data == start {
					c.w.setData(doc.folder, d, doc.dataOpt)
				}
				c.message.SetText(describeFixes(done))
			}
			if failed != nil {
				c.w.showError("The fix could not be made", failed)
			}
			c.refreshLists()
		})
	})
}

// describeFixes says what a batch of fixes did.
func describeFixes(fixes []app.Fix) string {
	if len(fixes) == 1 {
		return "Done: " + fixes[0].Describe() + "."
	}
	return fmt.Sprintf("Done: %d fixes, the first %s.", len(fixes), fixes[0].Describe())
}

// remove takes fixed items out of the lists.
func (c *labelCheck) remove(items []checkItem) {
	gone := map[string]bool{}
	for _, it := range items {
		gone[it.key()] = true
	}
	for i := range c.items {
		c.items[i] = slices.DeleteFunc(c.items[i], func(it checkItem) bool { return gone[it.key()] })
	}
	if c.report != nil {
		// The report too, so that reopening the view does not list them.
		rep := *c.report
		rep.Mislabeled = slices.DeleteFunc(slices.Clone(rep.Mislabeled), func(s doctor.Suspect) bool {
			return gone[checkItem{list: listWrong, paths: []string{s.Path}}.key()]
		})
		rep.NearDuplicates = slices.DeleteFunc(slices.Clone(rep.NearDuplicates), func(p doctor.NearCopy) bool {
			return gone[checkItem{list: listCopies, paths: p.Paths[:]}.key()]
		})
		rep.Outliers = slices.DeleteFunc(slices.Clone(rep.Outliers), func(s doctor.Stranger) bool {
			return gone[checkItem{list: listStrangers, paths: []string{s.Path}}.key()]
		})
		c.report = &rep
	}
}

// undoLast undoes the last action, newest fix first, and puts its items
// back in the lists.
func (c *labelCheck) undoLast() {
	if len(c.undo) == 0 || c.fixing {
		return
	}
	u := c.undo[len(c.undo)-1]
	what := u.fixes[0].Describe()
	doc := &c.w.doc
	start := doc.data
	c.fixing = true
	c.w.jobs.start(func() {
		d := start
		var failed error
		var kept []string // photos whose decision changed after their fix
		undone := 0
		for i := len(u.fixes) - 1; i >= 0; i-- {
			f := u.fixes[i]
			if err := c.w.core.UndoFix(f); err != nil {
				var changed *app.DecisionChangedError
				if !errors.As(err, &changed) {
					failed = err
					break
				}
				// It can never be undone now: it leaves the list,
				// and the photo stays as it was decided since.
				kept = append(kept, filepath.Base(f.Photo.Path))
			} else {
				d = d.WithChanges([]dataset.Change{f.Undone})
				undone++
			}
			u.fixes = u.fixes[:i]
		}
		fyne.Do(func() {
			c.fixing = false
			if len(u.fixes) == 0 {
				c.undo = c.undo[:len(c.undo)-1]
				if undone > 0 {
					c.restore(u.items)
				}
				slices.Reverse(kept)
				switch names := strings.Join(kept, ", "); {
				case len(kept) == 0:
					c.message.SetText("Undone: " + what + ".")
				case undone == 0:
					c.message.SetText("Not undone: " + names + " was decided otherwise since (in another window or Clasifica), and is left as it is.")
				default:
					c.message.SetText("Undone, but for what was decided otherwise since (in another window or Clasifica), which is left as it is: " + names + ".")
				}
			} else {
				c.undo[len(c.undo)-1] = u
			}
			c.dataset = d
			if doc.data == start {
				c.w.setData(doc.folder, d, doc.dataOpt)
			}
			if failed != nil {
				c.w.showError("The fix could not be undone", failed)
			}
			c.refreshLists()
		})
	})
}

// restore puts items back in the report and the lists, in score order.
func (c *labelCheck) restore(items []checkItem) {
	if c.report == nil {
		return
	}
	rep := *c.report
	for _, it := range items {
		switch it.list {
		case listWrong:
			rep.Mislabeled = append(slices.Clone(rep.Mislabeled), doctor.Suspect{Path: it.paths[0], Label: it.labels[0], Suggested: it.suggested, Score: it.score})
		case listCopies:
			rep.NearDuplicates = append(slices.Clone(rep.NearDuplicates), doctor.NearCopy{Paths: [2]string{it.paths[0], it.paths[1]},
				Labels: [2]string{it.labels[0], it.labels[1]}, Splits: [2]string{it.splits[0], it.splits[1]}, Similarity: it.score})
		default:
			rep.Outliers = append(slices.Clone(rep.Outliers), doctor.Stranger{Path: it.paths[0], Label: it.labels[0], Score: it.score})
		}
	}
	slices.SortStableFunc(rep.Mislabeled, func(a, b doctor.Suspect) int { return cmp.Compare(b.Score, a.Score) })
	slices.SortStableFunc(rep.NearDuplicates, func(a, b doctor.NearCopy) int { return cmp.Compare(b.Similarity, a.Similarity) })
	slices.SortStableFunc(rep.Outliers, func(a, b doctor.Stranger) int { return cmp.Compare(b.Score, a.Score) })
	c.report = &rep
	c.fill()
}

// checkRow is one line of a label-check list.
type checkRow struct {
	widget.BaseWidget
	check         *widget.Check
	thumbs        [2]*widgets.Thumb
	title         *widget.Label
	detail        *widgets.Subtle
	primary, more *widget.Button
	content       fyne.CanvasObject
}

func newCheckRow(loader widgets.Thumbnails) *checkRow {
	r := &checkRow{check: widget.NewCheck("", nil), title: widgets.Bold(""), detail: widgets.Caption("")}
	for i := range r.thumbs {
		r.thumbs[i] = widgets.NewThumb(loader, fyne.NewSize(72, 72))
	}
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.detail.Wrapping = fyne.TextWrapWord
	r.primary = widget.NewButton("", nil)
	r.primary.Importance = widget.MediumImportance
	r.more = widget.NewButtonWithIcon("", theme.MoreVerticalIcon(), nil)
	r.more.Importance = widget.LowImportance
	left := container.NewHBox(container.NewCenter(r.check), r.thumbs[0], r.thumbs[1])
	right := container.NewHBox(container.NewCenter(r.primary), container.NewCenter(r.more))
	text := container.New(widgets.TightVBox{Gap: -2 * theme.Padding()}, r.title, r.detail)
	r.content = container.NewBorder(nil, nil, left, right, container.NewVBox(layoutSpacer(), text))
	r.ExtendBaseWidget(r)
	return r
}

// layoutSpacer pushes the row's text down a little, level with the
// middle of the thumbnails.
func layoutSpacer() fyne.CanvasObject { return widgets.Spacer(theme.Padding()) }

// CreateRenderer lays out the row.
func (r *checkRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.content) }
