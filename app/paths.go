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
)

// Dirs are the folders Clasifica keeps its files in.
type Dirs struct {
	// Cache holds what can be downloaded or recomputed: backbones, the
	// feature cache, an ONNX Runtime library.
	Cache string
	// Config holds settings.
	Config string
}

// DefaultDirs returns the user's cache and config folders for Clasifica,
// or, when CLASIFICA_HOME is set, folders under it (for tests and portable
// installs).
func DefaultDirs() (Dirs, error) {
	if home := os.Getenv("CLASIFICA_HOME"); home != "" {
		return Dirs{Cache: filepath.Join(home, "cache"), Config: filepath.Join(home, "config")}, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return Dirs{}, fmt.Errorf("find the cache folder: %w", err)
	}
	config, err := os.UserConfigDir()
	if err != nil {
		return Dirs{}, fmt.Errorf("find the settings folder: %w", err)
	}
	return Dirs{Cache: filepath.Join(cache, "clasifica"), Config: filepath.Join(config, "clasifica")}, nil
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
