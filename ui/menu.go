package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// Keyboard shortcuts; the Shortcut modifier is Ctrl, or Cmd on macOS.
var (
	keyNew      = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}
	keyOpen     = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
	keySave     = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	keySaveAs   = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	keyExport   = &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault}
	keyFolder   = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	keyTrain    = &desktop.CustomShortcut{KeyName: fyne.KeyT, Modifier: fyne.KeyModifierShortcutDefault}
	keyClassify = &desktop.CustomShortcut{KeyName: fyne.KeyK, Modifier: fyne.KeyModifierShortcutDefault}
	keySettings = &desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault}
	keyQuit     = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
	keySteps    = [numSteps]*desktop.CustomShortcut{
		{KeyName: fyne.Key1, Modifier: fyne.KeyModifierShortcutDefault},
		{KeyName: fyne.Key2, Modifier: fyne.KeyModifierShortcutDefault},
		{KeyName: fyne.Key3, Modifier: fyne.KeyModifierShortcutDefault},
		{KeyName: fyne.Key4, Modifier: fyne.KeyModifierShortcutDefault},
	}
)

// commands maps each shortcut to what it does; the menus show the same
// shortcuts beside the same actions.
func (w *window) commands() map[*desktop.CustomShortcut]func() {
	m := map[*desktop.CustomShortcut]func(){
		keyNew:      w.newModel,
		keyOpen:     w.openModel,
		keySave:     func() { w.save(nil) },
		keySaveAs:   func() { w.saveAs(nil) },
		keyExport:   w.exportONNX,
		keyFolder:   w.data.chooseFolder,
		keyTrain:    w.train.start,
		keyClassify: w.classify.openPhotos,
		keySettings: w.showSettings,
		keyQuit:     w.requestClose,
	}
	for i, k := range keySteps {
		s := step(i)
		m[k] = func() { w.show(s) }
	}
	return m
}

// addShortcuts registers the keyboard shortcuts on the window.
func (w *window) addShortcuts() {
	for k, f := range w.commands() {
		w.win.Canvas().AddShortcut(k, func(fyne.Shortcut) { f() })
	}
}

// item returns a menu item with its shortcut shown.
func item(label string, key *desktop.CustomShortcut, action func()) *fyne.MenuItem {
	it := fyne.NewMenuItem(label, action)
	if key != nil {
		it.Shortcut = key
	}
	return it
}

// mainMenu builds the menus from the current state: what can be saved,
// the recent files, the appearance.
func (w *window) mainMenu() *fyne.MainMenu {
	noModel := w.doc.model == nil
	save := item("Save", keySave, func() { w.save(nil) })
	save.Disabled = noModel
	saveAs := item("Save As…", keySaveAs, func() { w.saveAs(nil) })
	saveAs.Disabled = noModel
	export := item("Export ONNX…", keyExport, w.exportONNX)
	export.Disabled = noModel
	recent := fyne.NewMenuItem("Open Recent", nil)
	var recentItems []*fyne.MenuItem
	for _, p := range w.settings.RecentModels {
		recentItems = append(recentItems, fyne.NewMenuItem(displayPath(p), func() {
			w.whenSaved("Open", func() { w.loadModel(p) })
		}))
	}
	if len(recentItems) == 0 {
		recentItems = []*fyne.MenuItem{{Label: "No recent models", Disabled: true}}
	}
	recent.ChildMenu = fyne.NewMenu("", recentItems...)
	quit := item("Quit", keyQuit, w.requestClose)
	quit.IsQuit = true
	modelMenu := fyne.NewMenu("Model",
		item("New", keyNew, w.newModel),
		item("Open…", keyOpen, w.openModel),
		recent,
		fyne.NewMenuItemSeparator(),
		save, saveAs, export,
		fyne.NewMenuItemSeparator(),
		item("Settings…", keySettings, w.showSettings),
		fyne.NewMenuItemSeparator(),
		quit,
	)

	folders := fyne.NewMenuItem("Recent Folders", nil)
	folders.ChildMenu = fyne.NewMenu("", w.data.recentItems()...)
	if len(folders.ChildMenu.Items) == 0 {
		folders.ChildMenu.Items = []*fyne.MenuItem{{Label: "No recent folders", Disabled: true}}
	}
	trainItem := item("Train", keyTrain, w.train.start)
	trainItem.Disabled = w.train.ready() != "" || w.busy()
	stop := fyne.NewMenuItem("Stop Training", w.train.cancel)
	stop.Disabled = !w.busy()
	classifyItem := item("Classify Photo…", keyClassify, w.classify.openPhotos)
	classifyItem.Disabled = noModel
	classifyFolder := fyne.NewMenuItem("Classify Folder…", w.classify.openFolder)
	classifyFolder.Disabled = noModel
	photos := fyne.NewMenu("Photos",
		item("Choose Training Folder…", keyFolder, w.data.chooseFolder),
		folders,
		fyne.NewMenuItemSeparator(),
		trainItem, stop,
		fyne.NewMenuItemSeparator(),
		classifyItem, classifyFolder,
	)

	var views []*fyne.MenuItem
	for i, t := range stepTitles {
		s := step(i)
		views = append(views, item(t, keySteps[i], func() { w.show(s) }))
	}
	look := fyne.NewMenuItem("Appearance", nil)
	var looks []*fyne.MenuItem
	for _, c := range appearanceChoices {
		it := fyne.NewMenuItem(c.label, func() {
			s := w.settings
			s.Appearance = c.value
			w.setSettings(s)
		})
		it.Checked = c.value == w.settings.Appearance
		looks = append(looks, it)
	}
	look.ChildMenu = fyne.NewMenu("", looks...)
	view := fyne.NewMenu("View", append(views, fyne.NewMenuItemSeparator(), look)...)

	help := fyne.NewMenu("Help",
		fyne.NewMenuItem("How to Arrange Photos", w.showLayoutHelp),
		fyne.NewMenuItem("About Clasifica", w.showAbout),
	)
	return fyne.NewMainMenu(modelMenu, photos, view, help)
}

// refreshMenu rebuilds the menus after a change of state.
func (w *window) refreshMenu() {
	if w.win != nil && w.data != nil && w.train != nil && w.classify != nil {
		w.win.SetMainMenu(w.mainMenu())
	}
}
