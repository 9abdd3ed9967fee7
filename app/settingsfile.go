package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// SettingsVersion is the version of the settings file's format this build
// reads and writes. A file of a later version is set aside, not read: its
// fields may mean what this build cannot know.
const SettingsVersion = 1

// settingsDoc is the settings file: the version, then the settings.
type settingsDoc struct {
	Version int `json:"version"`
	Settings
}

// SettingsFile returns the file that holds the desktop app's settings.
func (d Dirs) SettingsFile() string {
	return filepath.Join(d.Config, "settings.json")
}

// SettingsError reports a settings file that could not be read. A damaged
// file, or one written by a later version, is renamed (Kept) so that
// nothing in it is lost, and Clasifica goes on with the default settings.
type SettingsError struct {
	// File is the settings file.
	File string
	// Kept is where it was moved, if it was.
	Kept string
	Err  error
}

func (e *SettingsError) Error() string {
	msg := fmt.Sprintf("read the settings in %s: %v", e.File, e.Err)
	if e.Kept != "" {
		msg += fmt.Sprintf("; the file was kept as %s and Clasifica starts with the default settings (restore it by hand to get them back)", e.Kept)
	}
	return msg
}

func (e *SettingsError) Unwrap() error { return e.Err }

// settingsFormatError is a settings file that is not one this build can
// read: damaged (version 0 when the JSON is broken or has none) or of a
// later version.
type settingsFormatError struct {
	version int
	err     error
}

func (e *settingsFormatError) Error() string {
	if e.version > SettingsVersion {
		return fmt.Sprintf("written by a later Clasifica (format version %d; this one reads %d)", e.version, SettingsVersion)
	}
	return fmt.Sprintf("damaged: %v", e.err)
}

// defaults fills in what an empty field means, so that every reader sees
// the same choices.
func (s Settings) defaults() Settings {
	if s.Provider == "" {
		s.Provider = string(onnxrt.Auto)
	}
	if s.Precision == "" {
		s.Precision = string(PrecisionAuto)
	}
	return s
}

// readSettings reads the settings file; a missing one gives an error that
// matches fs.ErrNotExist, one it cannot read a *settingsFormatError.
func readSettings(file string) (Settings, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Settings{}, err
	}
	var doc settingsDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		// A later version may change the fields' types: its version
		// still says why this build cannot read it.
		var v struct{ Version int }
		if json.Unmarshal(data, &v) == nil && v.Version > SettingsVersion {
			return Settings{}, &settingsFormatError{version: v.Version}
		}
		return Settings{}, &settingsFormatError{err: err}
	}
	switch {
	case doc.Version > SettingsVersion:
		return Settings{}, &settingsFormatError{version: doc.Version}
	case doc.Version < 1:
		return Settings{}, &settingsFormatError{err: errors.New("no format version")}
	}
	return doc.Settings.defaults(), nil
}

// writeSettings writes the settings file atomically: a crash or a kill
// leaves the old file or the new one, never a torn one.
func writeSettings(file string, s Settings) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(settingsDoc{Version: SettingsVersion, Settings: s}); err != nil {
		return fmt.Errorf("save the settings in %s: %w", file, err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("save the settings in %s: %w", file, err)
	}
	return atomicfile.WriteFile(file, buf.Bytes(), 0o644)
}

// PeekSettings returns the settings without changing any file: the
// settings file's, or, when it is missing, old's (nil: the defaults), and
// the defaults when it cannot be read. It is for what must be known
// before the window opens (PrepareCUDA, which may start the process
// again); LoadSettings then migrates, or sets a damaged file aside and
// reports it, in the process that shows the window.
func (a *App) PeekSettings(old func() Settings) Settings {
	s, err := readSettings(a.Dirs.SettingsFile())
	switch {
	case err == nil:
		return s
	case errors.Is(err, fs.ErrNotExist) && old != nil:
		return old().defaults()
	}
	return Settings{}.defaults()
}

// LoadSettings reads the settings. When the settings file does not exist
// yet, old gives the settings kept before it (the desktop app's Fyne
// preferences; nil: the defaults) and the file is written with them, so
// they are taken once. A damaged file, or one of a later version, is set
// aside and replaced with the defaults, which LoadSettings returns with a
// *SettingsError; a file that cannot be read for another reason (its
// permissions) is left alone, and the defaults come with the error.
func (a *App) LoadSettings(old func() Settings) (Settings, error) {
	if a.Dirs.Config != "" {
		if s, err := readSettings(a.Dirs.SettingsFile()); err == nil {
			return s, nil
		}
	}
	// Missing or unreadable: decided under the lock, where another
	// Clasifica may have just written it.
	return a.lockedSettings(func(file string) (Settings, error) { return loadSettingsLocked(file, old) })
}

// lockedSettings runs f on the settings file with its locks held: this
// App's, and the file's lock against other processes.
func (a *App) lockedSettings(f func(file string) (Settings, error)) (Settings, error) {
	if a.Dirs.Config == "" {
		return Settings{}.defaults(), errors.New("no settings folder is set, so settings cannot be kept")
	}
	file := a.Dirs.SettingsFile()
	a.settingsMu.Lock()
	defer a.settingsMu.Unlock()
	l, err := lockFile(file, a.lockWait, "changing the settings")
	if err != nil {
		return Settings{}.defaults(), err
	}
	defer l.Unlock()
	return f(file)
}

// loadSettingsLocked is LoadSettings under the settings file's locks.
func loadSettingsLocked(file string, old func() Settings) (Settings, error) {
	s, err := readSettings(file)
	if err == nil {
		return s, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if old != nil {
			s = old()
		}
		s = s.defaults()
		return s, writeSettings(file, s)
	}
	var fe *settingsFormatError
	if !errors.As(err, &fe) {
		return Settings{}.defaults(), &SettingsError{File: file, Err: err}
	}
	kept, rerr := setAside(file, fe.version > SettingsVersion, fe.version)
	if rerr != nil {
		return Settings{}.defaults(), &SettingsError{File: file, Err: fmt.Errorf("%v, and it could not be set aside: %w", err, rerr)}
	}
	e := &SettingsError{File: file, Kept: kept, Err: err}
	if werr := writeSettings(file, Settings{}.defaults()); werr != nil {
		e.Err = fmt.Errorf("%w; and the default settings could not be written: %v", err, werr)
	}
	return Settings{}.defaults(), e
}

// ChangeSettings reads the settings file, lets change modify the
// settings, and writes them back atomically, returning them. Changes never
// overwrite each other, made through one App or by other Clasifica
// processes (two windows): each holds the file's lock from reading to
// writing. A file that cannot be read for a reason other than damage is
// not overwritten: the error comes back and nothing is written. A damaged
// one is set aside first, and its *SettingsError comes back with the
// changed defaults.
func (a *App) ChangeSettings(change func(*Settings)) (Settings, error) {
	return a.lockedSettings(func(file string) (Settings, error) {
		s, lerr := loadSettingsLocked(file, nil)
		var se *SettingsError
		if lerr != nil && (!errors.As(lerr, &se) || se.Kept == "") {
			return s, lerr
		}
		change(&s)
		atomicfile.RemoveStale(file) // only the lock's holder writes one
		if err := writeSettings(file, s); err != nil {
			return s, err
		}
		return s, lerr
	})
}

// SaveChoices saves the choices in c, all but the recent lists, which keep
// what the file has (what other windows added; see AddRecentFolder).
func (a *App) SaveChoices(c Settings) (Settings, error) {
	return a.ChangeSettings(func(s *Settings) {
		c.RecentFolders, c.RecentModels = s.RecentFolders, s.RecentModels
		*s = c
	})
}

// AddRecentFolder puts dir first in the recent folders, added to the list
// as the file has it, and returns the settings saved.
func (a *App) AddRecentFolder(dir string) (Settings, error) {
	return a.ChangeSettings(func(s *Settings) { s.RecentFolders = AddRecent(s.RecentFolders, dir) })
}

// AddRecentModel puts path first in the recent models, as
// AddRecentFolder does for folders.
func (a *App) AddRecentModel(path string) (Settings, error) {
	return a.ChangeSettings(func(s *Settings) { s.RecentModels = AddRecent(s.RecentModels, path) })
}
