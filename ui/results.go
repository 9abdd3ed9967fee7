package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/eval"
	"github.com/clasifica/clasifica/ml/features"
)

// resultsScreen is step 3: how well the model sorts photos it never saw
// while learning: the share it gets right, a table per kind, the
// confusion matrix, and the photos themselves, filterable to the
// mistakes.
type resultsScreen struct {
	w       *window
	task    task
	content fyne.CanvasObject
	body    *fyne.Container

	empty, evaluating, shown fyne.CanvasObject
	evalBar                  *widget.ProgressBar
	evalText                 *widgets.Subtle

	subtitle *widgets.Subtle
	stats    [4]statCard
	caveat   *widgets.Notice
	table    *widget.Table
	matrix   *widgets.Confusion
	gallery  *gallery
	unsure   *unsurePanel
	compare  *comparePanel
	// compareTab is the "Before and after" tab, among the tabs only
	// after a retraining.
	compareTab *container.TabItem
	tabs       *container.AppTabs
	report     *eval.Report
}

// statCard is one of the big numbers at the top of Results.
type statCard struct {
	value *widget.Label
	label *widgets.Subtle
	card  *widgets.Panel
}

func newStatCard() statCard {
	v := widget.NewLabel("")
	v.SizeName = sizeNameDisplay
	v.TextStyle.Bold = true
	l := widgets.Caption("")
	l.Wrapping = fyne.TextWrapWord
	return statCard{value: v, label: l, card: widgets.NewPanel(container.New(widgets.TightVBox{Gap: -2 * theme.Padding()}, v, l))}
}

func (c statCard) set(value, label string) {
	c.value.SetText(value)
	c.label.SetText(label)
}

// Per-class table columns.
var tableColumns = []string{"Kind", "Photos", "Recall", "Precision", "F1"}

func newResultsScreen(w *window) *resultsScreen {
	s := &resultsScreen{w: w}
	title, sub := widgets.Heading("Results", "")
	s.subtitle = sub
	s.empty = widgets.EmptyState(theme.NewThemedResource(theme.GridIcon()), "No results yet",
		"Train a model to see how well it sorts photos it has never seen, kind by kind and photo by photo.",
		widget.NewButtonWithIcon("Go to Train", theme.NavigateNextIcon(), func() { w.show(stepTrain) }))

	s.evalBar = widget.NewProgressBar()
	s.evalText = widgets.Caption("")
	s.evaluating = container.NewCenter(container.New(widgets.FixedWidth{Width: 460},
		widgets.Bold("Checking the model on its test photos…"), s.evalBar, s.evalText))

	row := container.NewGridWithColumns(4)
	for i := range s.stats {
		s.stats[i] = newStatCard()
		row.Add(s.stats[i].card)
	}
	s.caveat = widgets.NewNotice(theme.ColorNameWarning, "")

	s.table = widget.NewTableWithHeaders(
		func() (int, int) {
			if s.report == nil {
				return 0, len(tableColumns)
			}
			return len(s.report.Labels), len(tableColumns)
		},
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		s.updateCell)
	s.table.ShowHeaderColumn = false
	s.table.CreateHeader = func() fyne.CanvasObject { return widgets.Bold("") }
	s.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(tableColumns) {
			o.(*widget.Label).SetText(tableColumns[id.Col])
		}
	}
	s.table.OnSelected = func(id widget.TableCellID) {
		s.table.UnselectAll()
		if s.report != nil && id.Row >= 0 && id.Row < len(s.report.Labels) {
			l := s.report.Labels[id.Row]
			s.showPair(l, l)
		}
	}
	s.table.SetColumnWidth(0, 150)
	for c := 1; c < len(tableColumns); c++ {
		s.table.SetColumnWidth(c, 76)
	}
	legend := widgets.Caption("Recall: the share of a kind's photos the model found. Precision: the share of the photos it called that kind that really were. F1 balances the two.")
	legend.Wrapping = fyne.TextWrapWord
	tablePanel := widgets.NewPanel(widgets.VFill([]fyne.CanvasObject{widgets.Bold("Kind by kind")}, container.NewBorder(nil, legend, nil, nil, s.table)))

	s.matrix = widgets.NewConfusion(func(t, p int) {
		if s.report != nil {
			s.tappedCell(s.report.Labels[t], s.report.Labels[p])
		}
	})
	matrixHelp := widgets.Caption("Each row is a real kind, each column what the model said. The diagonal is right. Click a cell to see its photos.")
	matrixHelp.Wrapping = fyne.TextWrapWord
	matrixPanel := widgets.NewPanel(widgets.VFill([]fyne.CanvasObject{widgets.Bold("Confusion matrix"), matrixHelp},
		container.NewScroll(container.NewCenter(s.matrix))))

	overview := container.NewHSplit(tablePanel, matrixPanel)
	overview.SetOffset(0.48)
	s.gallery = newGallery(w)
	s.unsure = newUnsurePanel(w)
	s.compare = newComparePanel(w)
	s.compareTab = container.NewTabItemWithIcon(compareTitle, theme.HistoryIcon(), s.compare.content)
	s.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Overview", theme.ListIcon(), overview),
		container.NewTabItemWithIcon("Photos", theme.MediaPhotoIcon(), s.gallery.content),
		container.NewTabItemWithIcon("Not sure", theme.QuestionIcon(), s.unsure.content),
	)
	s.shown = widgets.VFill([]fyne.CanvasObject{row, s.caveat}, s.tabs)
	s.body = container.NewStack(s.empty, s.evaluating, s.shown)
	s.content = widgets.VFill([]fyne.CanvasObject{widgets.TitleBlock(title, sub), widgets.Spacer(theme.Padding())}, s.body)
	s.refresh()
	return s
}

// updateCell fills a cell of the per-class table.
func (s *resultsScreen) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	r := s.report
	if r == nil || id.Row >= len(r.Labels) {
		l.SetText("")
		return
	}
	m := r.PerClass[id.Row]
	l.TextStyle.Bold = false
	l.Alignment = fyne.TextAlignTrailing
	switch id.Col {
	case 0:
		l.Alignment = fyne.TextAlignLeading
		l.SetText(r.Labels[id.Row])
	case 1:
		l.SetText(words.Thousands(m.Support))
	case 2:
		l.SetText(words.Percent(m.Recall))
	case 3:
		l.SetText(words.Percent(m.Precision))
	case 4:
		l.SetText(fmt.Sprintf("%.2f", m.F1))
	}
	l.Refresh()
}

// showPair opens the photos of one confusion cell.
func (s *resultsScreen) showPair(truth, pred string) {
	s.gallery.showPair(truth, pred)
	s.tabs.SelectIndex(1)
}

// refresh shows the document's evaluation.
func (s *resultsScreen) refresh() {
	d := &s.w.doc
	var shown fyne.CanvasObject
	switch {
	case s.task.running():
		shown = s.evaluating
	case d.report == nil:
		shown = s.empty
		s.subtitle.SetText("How well the model sorts photos it did not learn from.")
		if d.model != nil {
			s.subtitle.SetText("This model has no test photos to check it on. Train it again to see results.")
		}
	default:
		shown = s.shown
		s.show(d.report)
	}
	for _, o := range s.body.Objects {
		o.Hide()
	}
	shown.Show()
	s.body.Refresh()
}

// show fills the screen from a report.
func (s *resultsScreen) show(r *eval.Report) {
	d := &s.w.doc
	s.report = r
	which := "test photos"
	if d.evaluated == "validation" {
		which = "validation photos"
	}
	s.subtitle.SetText(fmt.Sprintf("How well the model sorts the %s %s, which it did not learn from.", words.Thousands(r.N), which))
	s.stats[0].set(words.Percent(r.Accuracy), fmt.Sprintf("of the %s sorted right", which))
	s.stats[1].set(words.Percent(r.TopK), fmt.Sprintf("had the right kind among the model's %d best guesses", r.K))
	best, worst := 0, 0
	for i, m := range r.PerClass {
		if m.Recall > r.PerClass[best].Recall {
			best = i
		}
		if m.Recall < r.PerClass[worst].Recall {
			worst = i
		}
	}
	s.stats[2].set(words.Percent(r.PerClass[best].Recall), "of the "+r.Labels[best]+" photos found: the easiest kind")
	s.stats[3].set(words.Percent(r.PerClass[worst].Recall), "of the "+r.Labels[worst]+" photos found: the hardest kind")

	s.caveat.Hide()
	if m := d.model; m != nil && app.OnTestModel(m.Backbone) {
		s.caveat.Set(theme.ColorNameWarning, strings.TrimSpace("This model was trained on the test image model, which transfers poorly: "+
			"with the ImageNet image model the same photos give much better results. "+app.PreprocessNote(m.Backbone)))
		s.caveat.Show()
	} else if d.evaluated == "validation" {
		s.caveat.Set(theme.ColorNamePrimary, "No photos were kept aside for a final test, so these results are on the "+
			"validation photos, which also chose when to stop training: expect slightly lower accuracy on new photos.")
		s.caveat.Show()
	}
	s.noteDecisions()
	s.table.Refresh()
	s.matrix.Set(r.Labels, r.Confusion)
	s.gallery.set(d.reviewed)
	s.unsure.set(d.model, d.reviewed, which)
	s.tabs.Items[1].Text = fmt.Sprintf("Photos (%d)", len(d.reviewed))
	has := slices.Contains(s.tabs.Items, s.compareTab)
	switch {
	case d.previous != nil:
		s.compare.set()
		if !has {
			s.tabs.Append(s.compareTab)
		}
	case has:
		s.tabs.Remove(s.compareTab)
	}
	s.tabs.Refresh()
}

// showComparison opens the "Before and after" tab, after a retraining.
func (s *resultsScreen) showComparison() {
	if slices.Contains(s.tabs.Items, s.compareTab) {
		s.tabs.Select(s.compareTab)
	}
}

// evaluateRecorded checks a model opened from a file on the test photos
// it records, so that Results has something to show.
func (s *resultsScreen) evaluateRecorded() {
	m := s.w.doc.model
	if m == nil || m.Training == nil || len(m.Training.Test) == 0 {
		s.refresh()
		return
	}
	ctx, id := s.task.begin()
	s.evalBar.SetValue(0)
	s.evalText.SetText("Starting the image model…")
	s.refresh()
	s.w.refreshSteps()
	opt := s.w.settings.EngineOptions()
	s.w.jobs.start(func() {
		var ev *app.Evaluation
		eng, release, err := s.w.engines.OpenFor(ctx, m, opt)
		defer release()
		var c *app.Classifier
		if err == nil {
			c, err = app.NewClassifier(m, eng)
		}
		if err == nil {
			th := newThrottle()
			ev, err = c.EvaluateRecorded(ctx, func(p features.Progress) {
				if !th.pass(p.Done, p.Total) {
					return
				}
				fyne.Do(func() {
					if s.task.current(id) && p.Total > 0 {
						s.evalBar.SetValue(float64(p.Done) / float64(p.Total))
						s.evalText.SetText(fmt.Sprintf("%s of %s photos", words.Thousands(p.Done), words.Thousands(p.Total)))
					}
				})
			})
		}
		fyne.Do(func() {
			if !s.task.done(id) {
				return
			}
			if err == nil && s.w.doc.model == m {
				s.w.doc.setEvaluation(ev.Report, ev.Samples, "test")
			}
			s.refresh()
			s.w.refreshSteps()
			if err != nil && !app.IsCancel(err) {
				s.w.showError("The model could not be checked on its test photos", err)
			}
		})
	})
}

// status is the Results step's line in the sidebar.
func (s *resultsScreen) status() string {
	d := &s.w.doc
	switch {
	case s.task.running():
		return "Checking…"
	case d.report != nil:
		return words.Percent(d.report.Accuracy) + " sorted right"
	}
	return "After training"
}
