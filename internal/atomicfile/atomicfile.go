// Package atomicfile writes files so that readers, and the next start after
// a crash, see either the old content or the whole new one, never a torn
// file: the data goes to a temporary file beside the target, is synced, and
// is renamed over it.
//
// Every file Clasifica writes for the user or its caches (models, exported
// graphs, CSV results, backbone files, cache entries, the runtime library it
// installs) goes through this package.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// WriteFile writes data to path atomically with permissions perm (before
// the umask). The data is synced to disk before the rename, so a crash
// right after WriteFile returns cannot leave an empty file behind, as it can
// on file systems that delay allocation.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteUnsynced is WriteFile without the sync, for many small files whose
// readers verify a checksum and can recompute them (feature cache entries):
// syncing each would cost more than the rare recomputation after a crash.
func WriteUnsynced(path string, data []byte, perm fs.FileMode) error {
	return write(path, perm, false, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write streams a file to path atomically: fill writes the content, and the
// file appears at path only if fill and the sync succeed. On any error the
// temporary file is removed and path is untouched.
func Write(path string, perm fs.FileMode, fill func(io.Writer) error) error {
	return write(path, perm, true, fill)
}

func write(path string, perm fs.FileMode, sync bool, fill func(io.Writer) error) (err error) {
	f, tmp, err := create(tempPrefix(path), perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// tempPrefix is how the temporary files of writes to path begin: hidden,
// beside path, in its folder.
func tempPrefix(path string) string {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	return filepath.Join(dir, "."+base+".tmp-")
}

// RemoveStale removes the temporary files that writes to path left when a
// crash or a kill cut them short. Only a caller that holds a lock every
// writer of path holds may call it: any other writer's temporary file
// could be one still being written.
func RemoveStale(path string) {
	stale, _ := filepath.Glob(tempPrefix(path) + "*")
	for _, f := range stale {
		os.Remove(f)
	}
}

// create makes a new temporary file with a random name beginning with
// prefix. Unlike os.CreateTemp it takes the permissions, so that the kernel
// applies the umask as it does for os.WriteFile.
func create(prefix string, perm fs.FileMode) (*os.File, string, error) {
	for range 100 {
		name := prefix + strconv.FormatUint(rand.Uint64(), 36)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", fmt.Errorf("no free temporary name beginning with %s", prefix)
}
