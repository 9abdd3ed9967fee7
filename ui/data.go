package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/ml/dataset"
)

// dataScreen is step 1: choosing the photo folder and seeing what
// Clasifica found in it (the kinds of photo, how many of each, how they
// are divided, and anything worth fixing) before any training starts.
type dataScreen struct {
	w    *window
	task task
	// check decodes every photo of the scan in the background, so that
	// the problems shown are those training would skip.
	check task
	// checkFor is the document's dataset the running check's findings
	// belong to: the one checked, or a resplit of it.
	checkFor  *dataset.Dataset
	checkRow  *fyne.Container
	checkBar  *widget.ProgressBar
	checkText *widgets.Subtle
	content   fyne.CanvasObject
	body      *fyne.Container

	empty, scanning, loaded, failed fyne.CanvasObject

	choose    *widget.Button
	recentBtn *widget.Button
	// actions are the header's buttons, hidden while the empty state
	// shows its own.
	actions *fyne.Container
	recent  *fyne.Container

	progress     *widget.ProgressBar
	progressText *widgets.Subtle

	folder      *widget.Label
	note        *widgets.Subtle
	totals      *widget.Label
	split       *widgets.SplitBar
	splitLegend [3]*widgets.Subtle
	pets        *widget.RadioGroup
	petsRow     fyne.CanvasObject
	issues      *fyne.Container
	classes     *widget.List

	// byClass lists each class's photos and counts its split, for the
	// class rows.
	byClass [][]string
	counts  []dataset.SplitCounts

	failText *widget.Label
	failHelp *widget.Label
	err      error

	// The user's decisions and the label check (data_decisions.go).
	labels       *labelCheck
	checkBtn     *widget.Button
	decisionsRow *fyne.Container
	decidedText  *widget.Label
}

// Pet granularity choices, in words.
const (
	petsSpecies = "Cats or dogs"
	petsBreeds  = "Breeds"
)

func newDataScreen(w *window) *dataScreen {
	s := &dataScreen{w: w}
	s.choose = widget.NewButtonWithIcon("Choose folder…", theme.FolderOpenIcon(), s.chooseFolder)
	s.choose.Importance = widget.HighImportance
	s.recentBtn = widget.NewButtonWithIcon("Recent", theme.HistoryIcon(), s.showRecent)
	title, sub := widgets.Heading("Data", "The photos Clasifica learns from: one folder for each kind of photo, all inside one main folder.")

	s.recent = container.NewVBox()
	start := widget.NewButtonWithIcon("Choose folder…", theme.FolderOpenIcon(), s.chooseFolder)
	start.Importance = widget.HighImportance
	s.empty = container.NewCenter(container.NewVBox(
		widgets.EmptyState(theme.FolderOpenIcon(), "Start with your photos",
			"Put the photos of each kind in a folder named after it, such as cats and dogs. Put those folders "+
				"in one main folder and choose it, or drop it on this window.", start),
		container.NewCenter(s.recent)))

	s.progress = widget.NewProgressBar()
	s.progressText = widgets.Caption("")
	stop := widget.NewButtonWithIcon("Stop", theme.CancelIcon(), func() { s.task.stop() })
	s.scanning = container.NewCenter(container.New(widgets.FixedWidth{Width: 460},
		widgets.Bold("Reading the photos…"), s.progress, s.progressText, container.NewCenter(stop)))

	s.loaded = s.buildLoaded()

	s.failText = widgets.Wrapped("")
	s.failText.TextStyle.Bold = true
	s.failHelp = widget.NewLabel("")
	s.failHelp.TextStyle.Monospace = true
	s.failed = container.NewVScroll(container.NewVBox(
		widgets.NewNotice(theme.ColorNameWarning, "This folder cannot be used for training yet."),
		s.failText,
		widgets.NewPanel(s.failHelp),
		container.NewHBox(widget.NewButtonWithIcon("Choose another folder…", theme.FolderOpenIcon(), s.chooseFolder))))

	s.body = container.NewStack(s.empty, s.scanning, s.loaded, s.failed)
	s.checkBtn = s.newCheckButton()
	s.actions = container.NewHBox(s.recentBtn, s.checkBtn, s.choose)
	s.content = widgets.VFill([]fyne.CanvasObject{widgets.Header(title, sub, s.actions), widgets.Spacer(theme.Padding())}, s.body)
	s.refresh()
	return s
}

// buildLoaded lays out the summary of a scanned folder.
func (s *dataScreen) buildLoaded() fyne.CanvasObject {
	s.folder = widgets.Bold("")
	s.folder.Truncation = fyne.TextTruncateEllipsis
	s.note = widgets.Caption("")
	s.note.Wrapping = fyne.TextWrapWord
	s.totals = widget.NewLabel("")
	s.totals.SizeName = theme.SizeNameSubHeadingText
	s.totals.TextStyle.Bold = true
	s.split = widgets.NewSplitBar()
	legend := container.NewHBox()
	for i, name := range []string{"training", "validation", "test"} {
		s.splitLegend[i] = widgets.Caption(name)
		legend.Add(widgets.LegendItem(widgets.SplitColors[i], s.splitLegend[i]))
	}
	s.pets = widget.NewRadioGroup([]string{petsSpecies, petsBreeds}, s.setPets)
	s.pets.Horizontal = true
	s.pets.Required = true
	s.petsRow = container.NewHBox(widget.NewLabel("This is the Oxford-IIIT Pet dataset. Learn to tell apart:"), s.pets)

	folderIcon := widget.NewIcon(theme.FolderIcon())
	top := container.NewBorder(nil, nil, folderIcon, nil, s.folder)
	splitRow := container.NewBorder(nil, nil, s.totals, nil,
		container.NewVBox(widgets.Spacer(theme.Padding()), s.split, container.NewHBox(legend)))
	summary := widgets.NewPanel(container.NewVBox(top, s.note, splitRow, s.petsRow))

	s.issues = container.NewVBox()
	s.checkBar = widget.NewProgressBar()
	s.checkText = widgets.Caption("")
	stopCheck := widget.NewButtonWithIcon("Stop", theme.CancelIcon(), s.stopCheck)
	stopCheck.Importance = widget.LowImportance
	s.checkRow = container.NewBorder(nil, nil, nil, stopCheck,
		container.NewVBox(s.checkText, s.checkBar))
	s.checkRow.Hide()
	s.classes = widget.NewList(
		func() int { return len(s.byClass) },
		func() fyne.CanvasObject { return newClassRow(s.w.thumbs) },
		func(id widget.ListItemID, o fyne.CanvasObject) { s.updateRow(id, o.(*classRow)) },
	)
	s.classes.OnSelected = func(widget.ListItemID) { s.classes.UnselectAll() }
	kinds := widgets.Bold("Kinds of photo")
	s.decisionsRow = s.newDecisionsRow()
	return widgets.VFill([]fyne.CanvasObject{summary, s.checkRow, s.issues, s.decisionsRow, kinds}, s.classes)
}

// chooseFolder asks for the photo folder.
func (s *dataScreen) chooseFolder() {
	start := s.w.doc.folder
	if start != "" {
		start = filepath.Dir(start)
	} else if len(s.w.settings.RecentFolders) > 0 {
		start = filepath.Dir(s.w.settings.RecentFolders[0])
	}
	s.w.pick.folder("Choose the folder of photos", start, s.open)
}

// showRecent pops up the recent folders.
func (s *dataScreen) showRecent() {
	m := fyne.NewMenu("", s.recentItems()...)
	if len(m.Items) == 0 {
		m.Items = []*fyne.MenuItem{{Label: "No recent folders", Disabled: true}}
	}
	c := s.w.win.Canvas()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(s.recentBtn)
	widget.ShowPopUpMenuAtPosition(m, c, pos.Add(fyne.NewPos(0, s.recentBtn.Size().Height)))
}

// recentItems returns menu items opening the recent folders.
func (s *dataScreen) recentItems() []*fyne.MenuItem {
	var items []*fyne.MenuItem
	for _, dir := range s.w.settings.RecentFolders {
		items = append(items, fyne.NewMenuItem(displayPath(dir), func() { s.open(dir) }))
	}
	return items
}

// open scans a folder to train on.
func (s *dataScreen) open(dir string) {
	if s.w.busy() {
		s.w.inform("Training is running", "Stop the training before choosing other photos.")
		return
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	s.w.show(stepData)
	s.scan(dir, s.w.doc.dataOpt, nil)
}

// setPets rescans the Oxford pets by species or by breed.
func (s *dataScreen) setPets(choice string) {
	d := &s.w.doc
	g := dataset.Breed
	if choice == petsSpecies {
		g = dataset.Species
	}
	if d.data == nil || d.data.Layout != dataset.OxfordPets || d.dataOpt.Granularity == g {
		return
	}
	opt := d.dataOpt
	opt.Granularity = g
	s.scan(d.folder, opt, nil)
}

// scan reads dir in the background and shows what it holds; then, if not
// nil, runs on the UI goroutine after a successful scan.
func (s *dataScreen) scan(dir string, opt dataset.Options, then func()) {
	ctx, id := s.task.begin()
	s.check.stop()
	s.checkRow.Hide()
	s.err = nil
	s.progress.SetValue(0)
	s.progressText.SetText(displayPath(dir))
	s.refresh()
	s.w.refreshSteps()
	s.w.jobs.start(func() {
		th := newThrottle()
		opt.Progress = func(done, total int) {
			if !th.pass(done, total) {
				return
			}
			fyne.Do(func() {
				if s.task.current(id) && total > 0 {
					s.progress.SetValue(float64(done) / float64(total))
					s.progressText.SetText(fmt.Sprintf("%s of %s files", words.Thousands(done), words.Thousands(total)))
				}
			})
		}
		d, err := s.w.core.Scan(ctx, dir, opt)
		fyne.Do(func() {
			if !s.task.done(id) {
				return
			}
			switch {
			case err != nil && app.IsCancel(err):
				// Stopped: keep what was shown before.
			case err != nil:
				s.err = err
				s.w.doc.folder, s.w.doc.data = dir, nil
				s.w.rememberFolder(dir)
			default:
				s.w.setData(dir, d, opt)
				if then != nil {
					then()
				}
			}
			s.refresh()
			s.w.train.refresh()
			s.w.refresh()
			// Last, once the screen shows the scan: the check's result
			// replaces it. (Fyne's test driver runs fyne.Do at once on
			// the calling goroutine, so started earlier, a quick check
			// could finish while this function still draws the scan.)
			if err == nil && s.w.doc.data == d {
				s.startCheck(d)
			}
		})
	})
}

// startCheck decodes every photo of d in the background, showing the
// count, rate and time left under the summary; when it finishes, the
// photos that failed join the problems, if d is still the document's.
func (s *dataScreen) startCheck(d *dataset.Dataset) {
	ctx, id := s.check.begin()
	s.checkFor = d
	total := len(d.Items)
	s.checkBar.SetValue(0)
	s.checkText.SetText(fmt.Sprintf("Opening every photo to find damaged ones: 0 of %s", words.Thousands(total)))
	s.checkRow.Show()
	s.w.jobs.start(func() {
		th := newThrottle()
		checked, err := app.CheckPhotos(ctx, d, func(p progress.Progress) {
			if !th.pass(p.Done, p.Total) {
				return
			}
			fyne.Do(func() {
				if !s.check.current(id) || p.Total == 0 {
					return
				}
				s.checkBar.SetValue(p.Fraction())
				text := fmt.Sprintf("Opening every photo to find damaged ones: %s of %s", words.Thousands(p.Done), words.Thousands(p.Total))
				if r := p.Rate(); r > 0 && p.Done < p.Total {
					text += fmt.Sprintf(" · %.0f photos/s · %s left", r, words.RoughDuration(p.Remaining()))
				}
				s.checkText.SetText(text)
			})
		})
		fyne.Do(func() {
			if !s.check.done(id) {
				return
			}
			s.checkRow.Hide()
			// A scan started since, or a training under way, keeps what
			// it has: the training skips the same photos by itself.
			doc := &s.w.doc
			if err != nil || doc.data != s.checkFor || s.w.busy() || len(checked.Items) == len(d.Items) {
				return
			}
			// The shares may have moved while the check ran.
			if checked, err = app.Resplit(checked, doc.dataOpt); err == nil {
				s.w.setData(doc.folder, checked, doc.dataOpt)
			}
		})
	})
}

// resplit notes that the document's dataset from was divided again as
// to, so that a running check's findings still reach the document.
func (s *dataScreen) resplit(from, to *dataset.Dataset) {
	if s.checkFor == from {
		s.checkFor = to
	}
}

// stopCheck cancels the background check; the scan's findings stay.
func (s *dataScreen) stopCheck() {
	s.check.stop()
	s.checkRow.Hide()
}

// refresh shows the state of the document.
func (s *dataScreen) refresh() {
	d := &s.w.doc
	var shown fyne.CanvasObject
	switch {
	case s.task.running():
		shown = s.scanning
	case s.err != nil:
		shown = s.failed
		s.showFailure()
	case d.data != nil:
		shown = s.loaded
		s.showData()
	default:
		shown = s.empty
		s.showRecentList()
	}
	for _, o := range s.body.Objects {
		o.Hide()
	}
	shown.Show()
	s.actions.Hidden = shown == s.empty
	s.actions.Refresh()
	s.choose.Disable()
	s.checkBtn.Disable()
	if !s.w.busy() {
		s.choose.Enable()
		if canCheckLabels(d.data) {
			s.checkBtn.Enable()
		}
	}
	s.body.Refresh()
}

// showRecentList lists the recent folders under the empty state.
func (s *dataScreen) showRecentList() {
	s.recent.RemoveAll()
	dirs := s.w.settings.RecentFolders
	if len(dirs) == 0 {
		return
	}
	s.recent.Add(widgets.Spacer(2 * theme.Padding()))
	s.recent.Add(widget.NewLabelWithStyle("Recent folders", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}))
	for _, dir := range dirs {
		b := widget.NewButtonWithIcon(displayPath(dir), theme.FolderIcon(), func() { s.open(dir) })
		b.Importance = widget.LowImportance
		s.recent.Add(b)
	}
}

// showFailure explains why the folder cannot be used.
func (s *dataScreen) showFailure() {
	var layout *dataset.LayoutError
	if errors.As(s.err, &layout) {
		s.failText.SetText(fmt.Sprintf("Clasifica cannot tell what the photos in %s show: %s.", displayPath(layout.Root), layout.Found))
		help := layout.Error()
		if i := strings.Index(help, "\n\n"); i >= 0 {
			help = help[i+2:]
		}
		s.failHelp.SetText(help)
		s.failHelp.Show()
		return
	}
	e := explain(s.err)
	s.failText.SetText(strings.TrimSpace(e.what + " " + e.todo))
	s.failHelp.SetText(e.details)
	s.failHelp.Hidden = e.details == ""
}

// showData fills the summary from the scanned dataset.
func (s *dataScreen) showData() {
	d := &s.w.doc
	sum := d.data.Summary()
	s.folder.SetText(displayPath(d.folder))
	s.note.SetText(strings.ReplaceAll(sum.LayoutNote, d.data.Root, displayPath(d.data.Root)))
	s.totals.SetText(fmt.Sprintf("%s · %s", words.Plural(sum.Totals.Total(), "photo", "photos"), words.Plural(len(sum.Classes), "kind", "kinds")))
	s.split.SetCounts(sum.Totals)
	for i, name := range []string{"for training", "for validation", "for the final test"} {
		s.splitLegend[i].SetText(fmt.Sprintf("%s %s", words.Thousands(sum.Totals[i]), name))
	}
	if d.data.Layout == dataset.OxfordPets {
		if d.dataOpt.Granularity == dataset.Species {
			s.pets.SetSelected(petsSpecies)
		} else {
			s.pets.SetSelected(petsBreeds)
		}
		s.petsRow.Show()
	} else {
		s.petsRow.Hide()
	}

	s.byClass = make([][]string, len(d.data.Classes))
	for _, it := range d.data.Items {
		s.byClass[it.Label] = append(s.byClass[it.Label], it.Path)
	}
	s.counts = d.data.Counts()
	s.showIssues(sum)
	s.showDecided(d.data)
	s.classes.Refresh()
}

// maxIssues is the number of notes shown above the classes, one line
// each; the whole text is a click away, so that the photos stay in view.
const maxIssues = 3

// showIssues lists the warnings and the skipped files.
func (s *dataScreen) showIssues(sum dataset.Summary) {
	s.issues.RemoveAll()
	var notes []string
	for _, w := range sum.Warnings {
		notes = append(notes, w.Message)
	}
	if skipped := describeSkipped(sum.Problems); skipped != "" {
		notes = append(notes, skipped)
	}
	if len(notes) == 0 {
		s.issues.Add(widgets.NewNotice(theme.ColorNameSuccess, "No problems found: every photo could be read, and every kind has enough of them."))
		return
	}
	lines := container.New(widgets.TightVBox{Gap: -2 * theme.Padding()},
		widgets.Bold(words.Plural(len(notes), "thing", "things")+" to check before training"))
	for i, n := range notes {
		if i == maxIssues {
			lines.Add(widgets.Caption(fmt.Sprintf("and %d more", len(notes)-i)))
			break
		}
		l := widget.NewLabel("• " + n)
		l.Truncation = fyne.TextTruncateEllipsis
		lines.Add(l)
	}
	details := widget.NewButton("Details…", func() { s.showAllIssues(sum) })
	s.issues.Add(widgets.NewNoticeWith(theme.ColorNameWarning, lines, details))
}

// describeSkipped says in a sentence which files were left out and why.
// Hidden and system files (.DS_Store, Thumbs.db) are left out silently.
func describeSkipped(problems []dataset.ProblemSummary) string {
	var parts []string
	n := 0
	for _, p := range problems {
		if p.Reason == dataset.ReasonHidden || p.Reason == dataset.ReasonSystem {
			continue
		}
		n += p.Count
		parts = append(parts, fmt.Sprintf("%d %s", p.Count, strings.ToLower(strings.TrimSuffix(p.Description, "."))))
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%s left out: %s.", words.Plural(n, "file or folder was", "files or folders were"), strings.Join(parts, "; "))
}

// showAllIssues lists every warning and skipped file in a dialog.
func (s *dataScreen) showAllIssues(sum dataset.Summary) {
	box := container.NewVBox()
	for _, w := range sum.Warnings {
		box.Add(widgets.NewNotice(theme.ColorNameWarning, w.Message))
	}
	for _, p := range sum.Problems {
		if p.Reason == dataset.ReasonHidden || p.Reason == dataset.ReasonSystem {
			continue
		}
		box.Add(widgets.Bold(fmt.Sprintf("%s (%d)", p.Description, p.Count)))
		for _, ex := range p.Examples {
			l := widgets.Caption(ex)
			l.Truncation = fyne.TextTruncateEllipsis
			box.Add(l)
		}
	}
	scroll := container.NewVScroll(box)
	scroll.SetMinSize(fyne.NewSize(640, 400))
	d := dialog.NewCustom("Notes about the photos", "Close", scroll, s.w.win)
	s.w.showDialog(d)
}

// updateRow fills a class row.
func (s *dataScreen) updateRow(id int, r *classRow) {
	d := s.w.doc.data
	if d == nil || id >= len(s.byClass) {
		return
	}
	c := s.counts[id]
	r.name.SetText(d.Classes[id])
	r.count.SetText(words.Plural(c.Total(), "photo", "photos"))
	r.split.SetText(fmt.Sprintf("%d training · %d validation · %d test", c[dataset.Train], c[dataset.Validation], c[dataset.Test]))
	r.strip.SetPaths(s.byClass[id])
}

// status is the Data step's line in the sidebar.
func (s *dataScreen) status() string {
	d := &s.w.doc
	switch {
	case s.task.running():
		return "Reading photos…"
	case s.err != nil:
		return "This folder needs sorting"
	case d.data != nil:
		return fmt.Sprintf("%s · %s", words.Plural(len(d.data.Items), "photo", "photos"), words.Plural(len(d.data.Classes), "kind", "kinds"))
	}
	return "Choose your photos"
}

// classRow is one kind of photo in the Data screen: its name, counts and
// a strip of its first photos.
type classRow struct {
	widget.BaseWidget
	name, count *widget.Label
	split       *widgets.Subtle
	strip       *widgets.PhotoStrip
	content     fyne.CanvasObject
}

func newClassRow(loader widgets.Thumbnails) *classRow {
	r := &classRow{name: widgets.Bold(""), count: widget.NewLabel(""), split: widgets.Caption(""), strip: widgets.NewPhotoStrip(loader, 84)}
	r.name.SizeName = theme.SizeNameSubHeadingText
	r.name.Truncation = fyne.TextTruncateEllipsis
	info := container.New(widgets.FixedWidth{Width: 210}, container.New(widgets.TightVBox{Gap: -2 * theme.Padding()}, r.name, r.count, r.split))
	r.content = container.NewBorder(nil, nil, container.NewCenter(info), nil, r.strip)
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer lays out the row.
func (r *classRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.content) }
