package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/clasifica/clasifica/ml/onnxrt"
)

// RuntimeVersion is the ONNX Runtime release Clasifica is built and tested
// against; later 1.x releases work too.
const RuntimeVersion = "1.30.0"

// runtimeNames lists the library's file names on this platform, most
// specific first.
func runtimeNames() []string {
	switch runtime.GOOS {
	case "windows":
		return []string{"onnxruntime.dll"}
	case "darwin":
		return []string{"libonnxruntime." + RuntimeVersion + ".dylib", "libonnxruntime.dylib"}
	}
	return []string{"libonnxruntime.so.1", "libonnxruntime.so", "libonnxruntime.so." + RuntimeVersion}
}

// FindRuntime returns the ONNX Runtime shared library to load: explicit (a
// command-line flag or a setting) if given, else $ONNXRUNTIME_LIB, else a
// library next to the executable (where installers put it), else one in
// the user's Clasifica cache folder. The error says how to get one.
func FindRuntime(explicit string, dirs Dirs) (string, error) {
	if explicit != "" {
		return checkRuntime(explicit, "the runtime setting")
	}
	if env := os.Getenv("ONNXRUNTIME_LIB"); env != "" {
		return checkRuntime(env, "ONNXRUNTIME_LIB")
	}
	var places []string
	// A GPU build the user installed (setup --runtime) comes before the
	// library shipped next to the executable, which has no CUDA.
	if lib, ok := findIn(dirs.Runtime()); ok && hasCUDAProvider(lib) {
		return lib, nil
	}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		// Next to the executable, and where packages keep libraries: app
		// bundles in ../Frameworks, the .deb in /usr/lib/clasifica.
		places = append(places, dir, filepath.Join(dir, "lib"), filepath.Join(dir, "..", "lib"), filepath.Join(dir, "..", "lib", "clasifica"), filepath.Join(dir, "..", "Frameworks"))
	}
	places = append(places, dirs.Runtime())
	for _, dir := range places {
		if lib, ok := findIn(dir); ok {
			return lib, nil
		}
	}
	return "", &RuntimeMissingError{Looked: places}
}

// findIn returns the runtime library in dir, if there is one.
func findIn(dir string) (string, bool) {
	for _, name := range runtimeNames() {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, true
		}
	}
	return "", false
}

// hasCUDAProvider says whether the CUDA provider's library sits next to
// the runtime library lib, as in ONNX Runtime's GPU builds.
func hasCUDAProvider(lib string) bool {
	_, err := os.Stat(onnxrt.CUDAProvider(lib))
	return err == nil
}

func checkRuntime(p, from string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("ONNX Runtime library from %s: %w", from, err)
	}
	if st.IsDir() {
		for _, name := range runtimeNames() {
			if _, err := os.Stat(filepath.Join(p, name)); err == nil {
				return filepath.Join(p, name), nil
			}
		}
		return "", fmt.Errorf("ONNX Runtime library from %s: %s is a folder without %s", from, p, runtimeNames()[0])
	}
	return p, nil
}

// RuntimeMissingError reports that no ONNX Runtime library was found, and
// explains how to get one.
type RuntimeMissingError struct {
	Looked []string
}

func (e *RuntimeMissingError) Error() string {
	name := runtimeNames()[0]
	var b strings.Builder
	fmt.Fprintf(&b, "ONNX Runtime was not found: Clasifica needs its library, %s.\n", name)
	b.WriteString("Get it one of these ways:\n")
	asset := map[string]string{
		"linux":   "onnxruntime-linux-x64-" + RuntimeVersion + ".tgz (lib/" + name + ")",
		"darwin":  "onnxruntime-osx-universal2-" + RuntimeVersion + ".tgz (lib/" + name + ")",
		"windows": "onnxruntime-win-x64-" + RuntimeVersion + ".zip (lib\\" + name + ")",
	}[runtime.GOOS]
	if asset != "" {
		fmt.Fprintf(&b, "  - download %s from https://github.com/microsoft/onnxruntime/releases/tag/v%s\n", asset, RuntimeVersion)
	}
	fmt.Fprintf(&b, "  - or run `npm pack onnxruntime-node@%s` and take bin/napi-v6/<os>/<arch>/%s from the package\n", RuntimeVersion, name)
	b.WriteString("Then put the file in one of these folders, set ONNXRUNTIME_LIB to its path, or pass --runtime FILE:\n")
	for _, p := range e.Looked {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	return strings.TrimRight(b.String(), "\n")
}

// LoadRuntime finds and loads the ONNX Runtime library.
func LoadRuntime(explicit string, dirs Dirs) (*onnxrt.Runtime, error) {
	p, err := FindRuntime(explicit, dirs)
	if err != nil {
		return nil, err
	}
	rt, err := onnxrt.Load(p)
	if err != nil {
		var missing *RuntimeMissingError
		if errors.As(err, &missing) {
			return nil, err
		}
		return nil, fmt.Errorf("%w\nThe file may be damaged or for another system; Clasifica needs ONNX Runtime %s or later", err, RuntimeVersion)
	}
	return rt, nil
}
