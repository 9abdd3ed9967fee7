package cli

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
)

// privacyChild, set in a test process's environment, makes
// TestNothingWrittenOutsideOwnFolders play the user's part: it names the
// photo folder and the model file, separated by the list separator.
const privacyChild = "CLASIFICA_TEST_PRIVACY_CHILD"

// TestNothingWrittenOutsideOwnFolders installs the image model, trains and
// classifies from the command line in a fresh process with a fresh home,
// fresh XDG folders and a fresh temporary folder, and checks that nothing
// was written anywhere but in Clasifica's own folders and the model file
// asked for. ONNX Runtime records usage telemetry in the home folder by
// default (~/.cache/Microsoft/DeveloperTools/.onnxruntime/, with a device
// id, to upload later); the process must turn it off on its own, so the
// child starts without ORT_DISABLE_TELEMETRY. A fresh process, because the
// library is loaded once per process and looks at the home folder then.
func TestNothingWrittenOutsideOwnFolders(t *testing.T) {
	if env := os.Getenv(privacyChild); env != "" {
		photos, modelPath, _ := strings.Cut(env, string(os.PathListSeparator))
		for _, args := range [][]string{
			{"backbone", "import", mltest.Backbone(t)},
			{"train", "--data", photos, "--out", modelPath, "--epochs", "1", "--provider", "cpu"},
			{"classify", "--model", modelPath, "--provider", "cpu", photos},
		} {
			if code, out, errOut := clasifica(t, args...); code != 0 {
				t.Fatalf("clasifica %s: exit %d\n%s\n%s", args[0], code, out, errOut)
			}
		}
		return
	}

	root := t.TempDir()
	dir := func(elem ...string) string {
		p := filepath.Join(append([]string{root}, elem...)...)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	home, tmp := dir("home"), dir("tmp")
	xdg := map[string]string{}
	for _, v := range []string{"XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"} {
		xdg[v] = dir("xdg", strings.ToLower(strings.TrimPrefix(v, "XDG_")))
	}
	photos := dir("photos")
	for _, kind := range []string{"daisy", "tulip"} {
		paths, err := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers"), kind, "*.jpg"))
		if err != nil || len(paths) < 5 {
			t.Fatalf("photos of %s: %d (%v)", kind, len(paths), err)
		}
		for _, p := range paths[:5] {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir("photos", kind), filepath.Base(p)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	modelPath := filepath.Join(dir("models"), "flowers.clasifica")

	cmd := exec.Command(os.Args[0], "-test.run=^TestNothingWrittenOutsideOwnFolders$", "-test.count=1")
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "HOME", name == "USERPROFILE", name == "TMPDIR", name == "CLASIFICA_HOME",
			strings.HasPrefix(name, "XDG_"), strings.HasPrefix(name, "ORT_"):
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+home, "USERPROFILE="+home, "TMPDIR="+tmp,
		"ONNXRUNTIME_LIB="+mltest.RuntimeLibrary(t), "CLASIFICA_TEST_BACKBONE="+mltest.Backbone(t),
		privacyChild+"="+photos+string(os.PathListSeparator)+modelPath)
	for v, p := range xdg {
		cmd.Env = append(cmd.Env, v+"="+p)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the child process failed: %v\n%s", err, out)
	}

	// Clasifica's own folders: the cache, the settings and the data
	// folder (under the XDG folders, as on a Linux desktop), and the model
	// it was asked to write. The photos folder must stay as it was.
	own := []string{modelPath}
	for _, v := range []string{"XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"} {
		own = append(own, filepath.Join(xdg[v], "clasifica"))
	}
	var files, stray int
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		for _, o := range own {
			if p == o || strings.HasPrefix(p, o+string(filepath.Separator)) {
				return nil
			}
		}
		if rel, _ := filepath.Rel(photos, p); !strings.HasPrefix(rel, "..") && filepath.Dir(filepath.Dir(p)) == photos && strings.HasSuffix(p, ".jpg") {
			return nil // one of the photos put there
		}
		stray++
		t.Errorf("written outside Clasifica's folders: %s", p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(modelPath); err != nil {
		t.Fatalf("the model was not written: %v", err)
	}
	t.Logf("%d files in the fresh folders, %d outside Clasifica's", files, stray)
}
