package app

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/clasifica/clasifica/internal/atomicfile"
)

// maxRuntimeFile bounds one library taken from an archive: ONNX Runtime's
// CUDA provider is about 400 MB, its TensorRT provider less.
const maxRuntimeFile = 2 << 30

// runtimeFile says whether name (a file's base name) is part of an ONNX
// Runtime build that Clasifica needs: the core library and the provider
// libraries that must sit next to it.
func runtimeFile(name string) bool {
	low := strings.ToLower(name)
	if runtime.GOOS == "windows" {
		return strings.HasPrefix(low, "onnxruntime") && strings.HasSuffix(low, ".dll")
	}
	if runtime.GOOS == "darwin" {
		return strings.HasPrefix(low, "libonnxruntime") && strings.HasSuffix(low, ".dylib")
	}
	return strings.HasPrefix(low, "libonnxruntime") && (strings.HasSuffix(low, ".so") || strings.Contains(low, ".so."))
}

// InstallRuntime installs an ONNX Runtime build for Clasifica in the
// user's runtime folder (Dirs.Runtime) and returns the library's path
// there. src is the library file itself (the provider libraries next to
// it come along), the folder of an unpacked release (or its lib folder),
// or a release archive as downloaded: a .tgz of the Linux and macOS builds
// or a .zip of the Windows ones (a NuGet package is a .zip too). Only the
// library and its provider libraries are taken; the archive is read, never
// changed. A build with a CUDA provider installed this way is preferred
// over the one shipped with Clasifica (see FindRuntime).
func InstallRuntime(src string, dirs Dirs) (string, error) {
	st, err := os.Stat(src)
	if err != nil {
		return "", fmt.Errorf("install ONNX Runtime from %s: %w", src, err)
	}
	files := map[string]func() (io.ReadCloser, error){}
	low := strings.ToLower(src)
	switch {
	case st.IsDir():
		for _, d := range []string{src, filepath.Join(src, "lib")} {
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				if runtimeFile(e.Name()) {
					p := filepath.Join(d, e.Name())
					files[e.Name()] = func() (io.ReadCloser, error) { return os.Open(p) }
				}
			}
			if len(files) > 0 {
				break
			}
		}
	case strings.HasSuffix(low, ".tgz") || strings.HasSuffix(low, ".tar.gz"):
		if files, err = tarRuntimeFiles(src); err != nil {
			return "", fmt.Errorf("install ONNX Runtime from %s: %w", src, err)
		}
	case strings.HasSuffix(low, ".zip") || strings.HasSuffix(low, ".nupkg"):
		zr, err := zip.OpenReader(src)
		if err != nil {
			return "", fmt.Errorf("install ONNX Runtime from %s: %w", src, err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			name := path.Base(f.Name)
			// A NuGet package holds a build per system: take this one's.
			if strings.Contains(f.Name, "runtimes/") && !strings.Contains(f.Name, "runtimes/"+nugetRID()+"/") {
				continue
			}
			if !f.FileInfo().IsDir() && runtimeFile(name) {
				files[name] = f.Open
			}
		}
	default:
		name := filepath.Base(src)
		files[name] = func() (io.ReadCloser, error) { return os.Open(src) }
		ents, _ := os.ReadDir(filepath.Dir(src))
		for _, e := range ents {
			if e.Name() != name && runtimeFile(e.Name()) && strings.Contains(strings.ToLower(e.Name()), "providers") {
				p := filepath.Join(filepath.Dir(src), e.Name())
				files[e.Name()] = func() (io.ReadCloser, error) { return os.Open(p) }
			}
		}
	}
	var core string
	for _, n := range runtimeNames() {
		if _, ok := files[n]; ok {
			core = n
			break
		}
	}
	if core == "" && len(files) == 1 && !st.IsDir() {
		for n := range files {
			core = n // a library file under another name, as given
		}
	}
	if core == "" {
		return "", fmt.Errorf("install ONNX Runtime from %s: no %s in it", src, runtimeNames()[0])
	}
	dst := dirs.Runtime()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", fmt.Errorf("install ONNX Runtime: %w", err)
	}
	for name, open := range files {
		if err := copyRuntimeFile(open, filepath.Join(dst, name)); err != nil {
			return "", fmt.Errorf("install ONNX Runtime from %s: %s: %w", src, name, err)
		}
	}
	return filepath.Join(dst, core), nil
}

// tarRuntimeFiles lists the runtime's files in a .tgz release. Releases
// hold the library once and its other names as symbolic links
// (libonnxruntime.so.1 → libonnxruntime.so.1.30.0): a link is installed as
// a copy of its target, so the folder works wherever it is copied.
func tarRuntimeFiles(src string) (map[string]func() (io.ReadCloser, error), error) {
	links := map[string]string{}
	regular := map[string]bool{}
	if err := walkTar(src, func(h *tar.Header, _ io.Reader) error {
		name := path.Base(h.Name)
		if !runtimeFile(name) {
			return nil
		}
		switch h.Typeflag {
		case tar.TypeReg:
			regular[name] = true
		case tar.TypeSymlink:
			links[name] = path.Base(h.Linkname)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	files := map[string]func() (io.ReadCloser, error){}
	for name := range regular {
		files[name] = tarOpener(src, name)
	}
	for name, target := range links {
		for range 8 { // links to links, never a loop
			if t, ok := links[target]; ok {
				target = t
			}
		}
		if regular[target] {
			files[name] = tarOpener(src, target)
		}
	}
	return files, nil
}

func tarOpener(src, name string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		tmp, err := os.CreateTemp("", "clasifica-runtime-*")
		if err != nil {
			return nil, err
		}
		os.Remove(tmp.Name()) // gone when closed
		found := false
		err = walkTar(src, func(h *tar.Header, r io.Reader) error {
			if found || h.Typeflag != tar.TypeReg || path.Base(h.Name) != name {
				return nil
			}
			found = true
			_, err := io.Copy(tmp, io.LimitReader(r, maxRuntimeFile))
			return err
		})
		if err == nil && !found {
			err = fmt.Errorf("%s vanished from the archive", name)
		}
		if err == nil {
			_, err = tmp.Seek(0, io.SeekStart)
		}
		if err != nil {
			tmp.Close()
			return nil, err
		}
		return tmp, nil
	}
}

func walkTar(src string, fn func(*tar.Header, io.Reader) error) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(h, tr); err != nil {
			return err
		}
	}
}

func copyRuntimeFile(open func() (io.ReadCloser, error), dst string) error {
	r, err := open()
	if err != nil {
		return err
	}
	defer r.Close()
	return atomicfile.Write(dst, 0o755, func(w io.Writer) error {
		_, err := io.Copy(w, io.LimitReader(r, maxRuntimeFile))
		return err
	})
}

// nugetRID is the NuGet runtime identifier of this system.
func nugetRID() string {
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	osName := map[string]string{"windows": "win", "darwin": "osx"}[runtime.GOOS]
	if osName == "" {
		osName = runtime.GOOS
	}
	return osName + "-" + arch
}
