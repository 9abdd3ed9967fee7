// Package app is Clasifica's application core, shared by the command line
// and the desktop app: where files live, finding the ONNX Runtime library,
// the store of backbones, settings, and the training, classification and
// export jobs. It holds no widgets and prints nothing; jobs report progress
// through callbacks.
package app

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Dirs are the folders Clasifica keeps its files in.
type Dirs struct {
	// Cache holds what can be downloaded or recomputed: backbones, the
	// feature cache, an ONNX Runtime library.
	Cache string
	// Config holds settings.
	Config string
	// Data holds what the user decided and Clasifica cannot recompute: the
	// decision records of photo folders and the journal of file moves. It
	// is never the cache (clearing the cache must not lose decisions) and
	// never inside a photo folder.
	Data string
}

// DefaultDirs returns the user's cache, config and data folders for
// Clasifica, or, when CLASIFICA_HOME is set, folders under it (for tests
// and portable installs).
func DefaultDirs() (Dirs, error) {
	if home := os.Getenv("CLASIFICA_HOME"); home != "" {
		return Dirs{Cache: filepath.Join(home, "cache"), Config: filepath.Join(home, "config"), Data: filepath.Join(home, "data")}, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return Dirs{}, fmt.Errorf("find the cache folder: %w", err)
	}
	config, err := os.UserConfigDir()
	if err != nil {
		return Dirs{}, fmt.Errorf("find the settings folder: %w", err)
	}
	data, err := userDataDir(runtime.GOOS, os.Getenv, os.UserHomeDir)
	if err != nil {
		return Dirs{}, fmt.Errorf("find the data folder: %w", err)
	}
	return Dirs{Cache: filepath.Join(cache, "clasifica"), Config: filepath.Join(config, "clasifica"), Data: data}, nil
}

// userDataDir returns Clasifica's data folder on goos: the XDG data home
// on Unix, %APPDATA%\clasifica\data on Windows (where %LOCALAPPDATA% is
// already the cache, and the roaming folder follows the user), and
// Application Support on macOS (beside the config, which Go puts there
// too, hence the data subfolder).
func userDataDir(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	switch goos {
	case "windows":
		dir := getenv("APPDATA")
		if dir == "" {
			return "", fmt.Errorf("%%APPDATA%% is not set")
		}
		return filepath.Join(dir, "clasifica", "data"), nil
	case "darwin", "ios":
		h, err := home()
		if err != nil {
			return "", err
		}
		return filepath.Join(h, "Library", "Application Support", "clasifica", "data"), nil
	case "plan9":
		h, err := home()
		if err != nil {
			return "", err
		}
		return filepath.Join(h, "lib", "clasifica", "data"), nil
	}
	// The XDG base directory spec ignores a relative XDG_DATA_HOME.
	if dir := getenv("XDG_DATA_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "clasifica"), nil
	}
	h, err := home()
	if err != nil {
		return "", fmt.Errorf("neither $XDG_DATA_HOME nor $HOME is set")
	}
	return filepath.Join(h, ".local", "share", "clasifica"), nil
}

// Backbones is the folder of installed backbones.
func (d Dirs) Backbones() string { return filepath.Join(d.Cache, "backbones") }

// Features is the feature cache's folder.
func (d Dirs) Features() string { return filepath.Join(d.Cache, "features") }

// Runtime is the folder where Clasifica looks for an ONNX Runtime library
// the user installed for it.
func (d Dirs) Runtime() string { return filepath.Join(d.Cache, "onnxruntime") }

// Downloads holds partial downloads, so that they can resume.
func (d Dirs) Downloads() string { return filepath.Join(d.Cache, "downloads") }

// Decisions is the folder of decision records, one file per photo folder.
func (d Dirs) Decisions() string { return filepath.Join(d.Data, "decisions") }

// Moves is the journal of file moves in progress (see app.Mover).
func (d Dirs) Moves() string { return filepath.Join(d.Data, "moves") }
