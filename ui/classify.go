package ui

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/model"
)

// classifyScreen is step 4: photos or folders dropped anywhere on the
// window (or opened) are sorted by the model, each shown as a card with
// its label and confidence; the results can be saved as CSV or copied
// into a folder per kind.
type classifyScreen struct {
	w       *window
	task    task
	content fyne.CanvasObject
	body    *fyne.Container

	noModel, drop, shown fyne.CanvasObject

	preds  []app.Prediction
	seen   map[string]bool
	queued []string // paths being classified, in order
	// skipped are dropped files that are not photos.
	skipped []dataset.Problem

	grid     *widget.GridWrap
	summary  *widget.Label
	progress *fyne.Container
	bar      *widget.ProgressBar
	barText  *widgets.Subtle
	openBtn  *widget.Button
	folderB  *widget.Button
	csvBtn   *widget.Button
	sortBtn  *widget.Button
	clearBtn *widget.Button
	// retrain counts the corrections since the last training on the
	// button that retrains (ui/correct.go).
	retrain    *widgets.Notice
	retrainBtn *widget.Button
}

func newClassifyScreen(w *window) *classifyScreen {
	s := &classifyScreen{w: w, seen: map[string]bool{}}
	title, sub := widgets.Heading("Classify", "Drop photos or folders anywhere on this window, or open them. Clasifica sorts each photo with the model.")
	s.openBtn = widget.NewButtonWithIcon("Open photo…", theme.FileImageIcon(), s.openPhotos)
	s.folderB = widget.NewButtonWithIcon("Open folder…", theme.FolderOpenIcon(), s.openFolder)
	s.openBtn.Importance = widget.HighImportance
	s.csvBtn = widget.NewButtonWithIcon("Export CSV…", theme.DocumentSaveIcon(), s.exportCSV)
	s.sortBtn = widget.NewButtonWithIcon("Sort into folders…", theme.FolderNewIcon(), s.sortInto)
	s.clearBtn = widget.NewButtonWithIcon("Clear", theme.ContentClearIcon(), s.clear)

	s.noModel = widgets.EmptyState(theme.NewThemedResource(theme.MediaPhotoIcon()), "No model yet",
		"Train a model on your photos, or open one you saved, then drop new photos here to sort them.",
		widget.NewButtonWithIcon("Go to Train", theme.NavigateNextIcon(), func() { w.show(stepTrain) }),
		widget.NewButtonWithIcon("Open model…", theme.FolderOpenIcon(), w.openModel))
	s.drop = newDropZone(
		widget.NewButtonWithIcon("Open photo…", theme.FileImageIcon(), s.openPhotos),
		widget.NewButtonWithIcon("Open folder…", theme.FolderOpenIcon(), s.openFolder))

	s.grid = widget.NewGridWrap(
		func() int { return len(s.preds) },
		func() fyne.CanvasObject { return widgets.NewPhotoCard(w.thumbs) },
		func(id widget.GridWrapItemID, o fyne.CanvasObject) { s.update(id, o.(*widgets.PhotoCard)) },
	)
	s.summary = widgets.Wrapped("")
	s.bar = widget.NewProgressBar()
	s.barText = widgets.Caption("")
	stop := widget.NewButtonWithIcon("Stop", theme.CancelIcon(), func() { s.task.stop() })
	s.progress = container.NewVBox(container.NewBorder(nil, nil, nil, stop, s.bar), s.barText)
	tools := container.NewHBox(s.csvBtn, s.sortBtn, s.clearBtn)
	s.shown = widgets.VFill([]fyne.CanvasObject{container.NewBorder(nil, nil, nil, tools, s.summary), s.progress}, s.grid)

	s.retrainBtn = widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), w.retrain)
	s.retrainBtn.Importance = widget.HighImportance
	s.retrain = widgets.NewNotice(theme.ColorNamePrimary, "Your corrections are in the training photos. The model learns them when it trains again, in seconds: only the new photos go through the image model.", s.retrainBtn)
	s.retrain.Hide()
	s.body = container.NewStack(s.noModel, s.drop, s.shown)
	s.content = widgets.VFill([]fyne.CanvasObject{widgets.Header(title, sub, s.folderB, s.openBtn), widgets.Spacer(theme.Padding()), s.retrain}, s.body)
	s.refresh()
	return s
}

// newDropZone is the Classify screen before any photo: a large framed
// area inviting a drop.
func newDropZone(buttons ...fyne.CanvasObject) fyne.CanvasObject {
	inner := widgets.EmptyState(theme.NewPrimaryThemedResource(theme.UploadIcon()), "Drop photos here",
		"Drag photos or whole folders from your file manager and drop them anywhere on this window. "+
			"Folders are searched for photos, however deep they are.", buttons...)
	p := &widgets.Panel{Content: inner, Tone: theme.ColorNamePrimary, Alpha: 0.06, Radius: 4, Pad: 4}
	p.ExtendBaseWidget(p)
	return p
}

// refresh shows the state: no model, nothing yet, or the photos.
func (s *classifyScreen) refresh() {
	var shown fyne.CanvasObject
	switch {
	case s.w.doc.model == nil:
		shown = s.noModel
	case len(s.preds) == 0 && !s.task.running():
		shown = s.drop
	default:
		shown = s.shown
	}
	for _, o := range s.body.Objects {
		o.Hide()
	}
	shown.Show()
	if s.task.running() {
		s.progress.Show()
	} else {
		s.progress.Hide()
	}
	has := s.w.doc.model != nil
	for _, b := range []*widget.Button{s.openBtn, s.folderB} {
		if has {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	done := len(s.preds) > 0 && !s.task.running()
	for _, b := range []*widget.Button{s.csvBtn, s.sortBtn, s.clearBtn} {
		if done {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	s.summary.SetText(s.describe())
	if text := s.w.retrainText(); text != "" && s.w.doc.model != nil {
		s.retrainBtn.SetText(text)
		s.retrain.Show()
	} else {
		s.retrain.Hide()
	}
	s.body.Refresh()
}

// describe counts the photos per label.
func (s *classifyScreen) describe() string {
	if len(s.preds) == 0 {
		return ""
	}
	count := map[string]int{}
	failed, unsure, strangers := 0, 0, 0
	for _, p := range s.preds {
		switch {
		case p.Err != nil:
			failed++
		case p.Stranger:
			strangers++
		case p.Unsure:
			unsure++
		default:
			count[p.Label()]++
		}
	}
	labels := make([]string, 0, len(count))
	for l := range count {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool {
		if count[labels[i]] != count[labels[j]] {
			return count[labels[i]] > count[labels[j]]
		}
		return labels[i] < labels[j]
	})
	var parts []string
	for _, l := range labels {
		parts = append(parts, fmt.Sprintf("%s %s", words.Thousands(count[l]), l))
	}
	if strangers > 0 {
		parts = append(parts, fmt.Sprintf("%s not one of its kinds", words.Thousands(strangers)))
	}
	if unsure > 0 {
		parts = append(parts, fmt.Sprintf("%s not sure", words.Thousands(unsure)))
	}
	text := fmt.Sprintf("%s sorted: %s.", words.Plural(len(s.preds)-failed, "photo", "photos"), strings.Join(parts, ", "))
	if failed > 0 {
		text += fmt.Sprintf(" %s could not be read.", words.Plural(failed, "photo", "photos"))
	}
	if len(s.skipped) > 0 {
		text += fmt.Sprintf(" %s skipped (not photos).", words.Plural(len(s.skipped), "file was", "files were"))
	}
	if m := s.w.doc.model; m != nil && m.Strangers != nil && !m.Strangers.Judged {
		text += " This model cannot say \"Not one of its kinds\" (Results says why)."
	}
	return text
}

// strangersSortText says where sorting puts photos unlike all the model's
// kinds, or that it cannot tell them; "" for models that keep nothing for
// it.
func strangersSortText(m *model.Model) string {
	if m == nil || m.Strangers == nil {
		return ""
	}
	if judged, _ := app.StrangersJudged(m); judged {
		return fmt.Sprintf(" Photos unlike all its kinds (a page of text, a screenshot) go to %s.", app.StrangersFolder)
	}
	return " This model cannot tell photos unlike all its kinds: they go to the kind they look most like."
}

// update fills a card.
func (s *classifyScreen) update(id int, c *widgets.PhotoCard) {
	if id >= len(s.preds) {
		return
	}
	p := s.preds[id]
	c.Thumb.SetPath(p.Path)
	c.SetTone("")
	if p.Err != nil {
		c.Label.SetText("Not read")
		c.Value.SetText("")
		c.Bar.Set(0, theme.ColorNamePrimary)
		c.Sub.SetText(filepath.Base(p.Path))
	} else if p.Stranger {
		showStranger(c, p)
	} else if p.Unsure {
		showUnsure(c, p)
	} else {
		c.Label.SetText(p.Label())
		c.Value.SetText(words.Percent(p.Confidence()))
		c.Bar.Set(p.Confidence(), theme.ColorNamePrimary)
		c.Sub.SetText(filepath.Base(p.Path))
	}
	c.OnTapped = func() {
		s.w.showPhoto(photoDetail{path: p.Path, top: p.Top, err: p.Err, unsure: p.Unsure, stranger: p.Stranger})
	}
}

// openPhotos asks for a photo to classify.
func (s *classifyScreen) openPhotos() {
	s.w.openFile("Choose a photo to classify", []string{".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"},
		func(p string) { s.add([]string{p}) })
}

// openFolder asks for a folder of photos to classify.
func (s *classifyScreen) openFolder() {
	s.w.pick.folder("Choose a folder of photos to classify", s.w.lastDir(), func(p string) { s.add([]string{p}) })
}

// add classifies dropped or opened files and folders, after those
// already shown; photos already shown are not repeated.
func (s *classifyScreen) add(inputs []string) {
	m := s.w.doc.model
	if m == nil {
		s.w.inform("No model yet", "Train a model or open one first; then drop photos to sort them.")
		return
	}
	s.w.show(stepClassify)
	if s.task.running() {
		s.w.inform("Still sorting", "Wait for the photos being sorted, or stop them, before adding more.")
		return
	}
	s.sort(inputs)
}

// sort classifies files and folders after the photos already shown.
func (s *classifyScreen) sort(inputs []string) {
	m := s.w.doc.model
	ctx, id := s.task.begin()
	s.bar.SetValue(0)
	s.barText.SetText("Looking for photos…")
	s.refresh()
	s.w.refreshSteps()
	opt := s.w.settings.EngineOptions()
	seen := maps.Clone(s.seen)
	s.w.jobs.start(func() {
		paths, problems, err := app.ListPhotos(ctx, inputs)
		var fresh []string
		for _, p := range paths {
			if !seen[p] {
				seen[p] = true
				fresh = append(fresh, p)
			}
		}
		// The engine is asked for on every job, so that photos added after
		// a change of Settings run on the new settings' engine; the set
		// keeps it open between jobs.
		var c *app.Classifier
		if err == nil {
			var release func()
			c, release, err = s.classifierFor(ctx, m, opt)
			defer release()
		}
		if err == nil {
			th := newThrottle()
			err = c.ClassifyInBatches(ctx, fresh, 32, func(_ int, preds []app.Prediction) {
				fyne.Do(func() {
					if s.task.current(id) {
						for _, p := range preds {
							s.seen[p.Path] = true
						}
						s.preds = append(s.preds, preds...)
						s.grid.Refresh()
						s.summary.SetText(s.describe())
					}
				})
			}, func(p features.Progress) {
				if !th.pass(p.Done, p.Total) {
					return
				}
				fyne.Do(func() {
					if s.task.current(id) && p.Total > 0 {
						s.bar.SetValue(float64(p.Done) / float64(p.Total))
						text := fmt.Sprintf("%s of %s photos", words.Thousands(p.Done), words.Thousands(p.Total))
						if left := words.RoughDuration(p.Remaining()); left != "" {
							text += " · " + left + " left"
						}
						s.barText.SetText(text)
					}
				})
			})
		}
		fyne.Do(func() {
			if !s.task.done(id) {
				return
			}
			s.skipped = append(s.skipped, problems...)
			if len(fresh) == 0 && err == nil {
				s.w.inform("No new photos", "No photos were found there that are not already shown.")
			}
			s.refresh()
			s.w.refreshSteps()
			s.w.showError("The photos could not be sorted", err)
		})
	})
}

// classifierFor opens the engine of m's backbone and pairs them; release
// ends the use of the engine.
func (s *classifyScreen) classifierFor(ctx context.Context, m *model.Model, opt app.EngineOptions) (*app.Classifier, func(), error) {
	eng, release, err := s.w.engines.OpenFor(ctx, m, opt)
	if err != nil {
		return nil, release, err
	}
	c, err := app.NewClassifier(m, eng)
	return c, release, err
}

// modelChanged sorts the photos shown again with a new model.
func (s *classifyScreen) modelChanged() {
	s.task.stop()
	var paths []string
	for _, p := range s.preds {
		paths = append(paths, p.Path)
	}
	s.clear()
	if len(paths) > 0 && s.w.doc.model != nil {
		// Sorted again in the background, where the user is (the Train
		// screen's outcome after a retraining, Results after going back).
		s.sort(paths)
		return
	}
	s.refresh()
}

// clear removes every photo.
func (s *classifyScreen) clear() {
	s.task.stop()
	s.preds = nil
	s.skipped = nil
	s.seen = map[string]bool{}
	s.grid.Refresh()
	s.refresh()
	s.w.refreshSteps()
}

// exportCSV saves the predictions as a CSV file.
func (s *classifyScreen) exportCSV() {
	preds := s.preds
	s.w.pick.save("Export the predictions as CSV", s.w.doc.name()+"-predictions.csv", []string{".csv"}, func(path string) {
		s.w.jobs.start(func() {
			err := app.WriteCSVFile(path, preds)
			fyne.Do(func() {
				if err != nil {
					s.w.showError("The CSV file could not be saved", err)
					return
				}
				s.w.inform("Exported", fmt.Sprintf("Saved %s of predictions to %s.", words.Plural(len(preds), "row", "rows"), displayPath(path)))
			})
		})
	})
}

// sortInto copies the photos into a folder per label, after asking where
// and from what confidence; nothing is moved or overwritten.
func (s *classifyScreen) sortInto() {
	preds := s.preds
	s.w.pick.folder("Choose where to put the sorted copies", s.w.lastDir(), func(out string) {
		m := s.w.doc.model
		threshold := widget.NewSlider(0, 99)
		threshold.Step = 1
		start := sortStart(m)
		threshold.SetValue(start)
		// minConfidence is the slider's value, or the model's own
		// threshold to the last digit while the slider stays where it
		// started (the slider moves by whole percents).
		minConfidence := func() float64 {
			if m != nil && m.Threshold != nil && threshold.Value == start {
				return app.ModelThreshold(m)
			}
			return threshold.Value / 100
		}
		value := widget.NewLabel("")
		atValue := widgets.Caption("")
		atValue.Wrapping = fyne.TextWrapWord
		threshold.OnChanged = func(v float64) {
			value.SetText(fmt.Sprintf("%.0f%%", v))
			atValue.SetText(sortPromise(m, minConfidence()))
		}
		threshold.OnChanged(threshold.Value)
		text := widgets.Wrapped(fmt.Sprintf("Clasifica copies each photo into a folder named after its kind inside %s. "+
			"The originals stay where they are, and no file is overwritten.", displayPath(out)))
		unsure := widgets.Caption(fmt.Sprintf("Photos the model is less sure of than this go to %s instead. It starts at the model's own threshold: %s",
			app.UnsureFolder, app.Promise(m.Threshold)) + strangersSortText(m))
		unsure.Wrapping = fyne.TextWrapWord
		content := container.New(widgets.FixedWidth{Width: 460}, text, unsure, container.NewBorder(nil, nil, nil, value, threshold), atValue)
		d := dialog.NewCustomConfirm("Sort into folders", "Copy photos", "Cancel", content, func(ok bool) {
			if ok {
				s.copyInto(preds, out, minConfidence())
			}
		}, s.w.win)
		s.w.showDialog(d)
	})
}

// copyInto runs the sorting in the background and reports what it did.
func (s *classifyScreen) copyInto(preds []app.Prediction, out string, minConfidence float64) {
	ctx, id := s.task.begin()
	s.bar.SetValue(0)
	s.barText.SetText("Copying photos…")
	s.refresh()
	s.w.jobs.start(func() {
		done, err := app.SortInto(ctx, preds, out, minConfidence)
		fyne.Do(func() {
			if !s.task.done(id) {
				return
			}
			s.refresh()
			if err != nil {
				s.w.showError("The photos could not all be copied", err)
				return
			}
			copied, there, unsure, strangers := 0, 0, 0, 0
			folders := map[string]bool{}
			for _, d := range done {
				switch {
				case d.To != "":
					copied++
					folders[filepath.Dir(d.To)] = true
					switch filepath.Base(filepath.Dir(d.To)) {
					case app.UnsureFolder:
						unsure++
					case app.StrangersFolder:
						strangers++
					}
				case d.Skipped == "already there":
					there++
				}
			}
			msg := fmt.Sprintf("Copied %s into %s in %s.", words.Plural(copied, "photo", "photos"), words.Plural(len(folders), "folder", "folders"), displayPath(out))
			if unsure > 0 {
				msg += fmt.Sprintf(" %s went to %s.", words.Plural(unsure, "photo the model was unsure of", "photos the model was unsure of"), app.UnsureFolder)
			}
			if strangers > 0 {
				msg += fmt.Sprintf(" %s went to %s.", words.Plural(strangers, "photo unlike all its kinds", "photos unlike all its kinds"), app.StrangersFolder)
			}
			if there > 0 {
				msg += fmt.Sprintf(" %s already there.", words.Plural(there, "photo was", "photos were"))
			}
			msg += " Nothing was moved or overwritten."
			s.w.inform("Photos sorted", msg)
		})
	})
}

// status is the Classify step's line in the sidebar.
func (s *classifyScreen) status() string {
	switch {
	case s.task.running():
		return "Sorting photos…"
	case s.w.doc.model == nil:
		return "Needs a model"
	case len(s.preds) > 0:
		return words.Plural(len(s.preds), "photo", "photos") + " sorted"
	}
	return "Drop photos to sort them"
}

// dropped handles files and folders dropped on the window. A single
// folder dropped on the Data step, or before there is a model, becomes
// the training photos; everything else is classified.
func (w *window) dropped(_ fyne.Position, uris []fyne.URI) {
	paths := uriPaths(uris)
	if len(paths) == 0 {
		return
	}
	if len(paths) == 1 && isDir(paths[0]) && (w.current == stepData || w.doc.model == nil) {
		w.data.open(paths[0])
		return
	}
	if w.doc.model == nil {
		w.inform("No model yet", "Drop a folder of photos sorted into one folder per kind to train on, "+
			"or train or open a model first to sort new photos.")
		return
	}
	w.classify.add(paths)
}

// isDir reports whether path is a folder.
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
