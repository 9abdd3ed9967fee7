package cli

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// killChild, set in a test process's environment, makes
// TestPrecisionCheckKilled run the 8-bit check from the command line,
// for its parent to kill.
const killChild = "CLASIFICA_TEST_KILL_CHILD"

// TestPrecisionCheckKilled kills (SIGKILL) a `bench --check-precision`
// while it calibrates the 8-bit model, once its progress line has moved:
// neither a record of the check nor an 8-bit model is left, so the next
// start checks again.
func TestPrecisionCheckKilled(t *testing.T) {
	if os.Getenv(killChild) != "" {
		// Its progress goes to the parent through standard error.
		dirs, err := app.DefaultDirs()
		if err != nil {
			t.Fatal(err)
		}
		code := Run(context.Background(), app.New(dirs), []string{"bench", "--check-precision", "--provider", "cpu"}, os.Stdout, os.Stderr)
		t.Fatalf("the check ended (exit %d) before it was killed", code)
	}
	home := t.TempDir()
	t.Setenv("CLASIFICA_HOME", home)
	if code, _, errOut := clasifica(t, "backbone", "import", mltest.Backbone(t)); code != 0 {
		t.Fatalf("backbone import: exit %d\n%s", code, errOut)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPrecisionCheckKilled$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), killChild+"=1", "ONNXRUNTIME_LIB="+mltest.RuntimeLibrary(t))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	moved := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if done, ok := checkProgress(sc.Text()); ok && done > 0 {
				moved <- sc.Text()
				break
			}
		}
		close(moved)
		for sc.Scan() {
		}
	}()
	var line string
	select {
	case line = <-moved:
	case <-time.After(10 * time.Minute):
	}
	if line == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the child's check never showed progress")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	cmd.Wait()
	t.Logf("killed at %q", line)

	dirs, err := app.DefaultDirs()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dirs.Cache, "precision.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a killed check left a record (%v)", err)
	}
	int8s, _ := filepath.Glob(filepath.Join(dirs.Cache, "backbones", "*", "features-int8-*"))
	if len(int8s) > 0 {
		t.Errorf("a killed check left an 8-bit model: %v", int8s)
	}
	a := app.New(dirs)
	if need, err := a.PrecisionUnchecked(app.EngineOptions{Runtime: mltest.RuntimeLibrary(t), Provider: onnxrt.CPU}); !need || err != nil {
		t.Errorf("after the kill, PrecisionUnchecked: %v, %v", need, err)
	}
}

// TestCheckPrecisionFirst asks for the check as a long command does,
// where 8 bits were never checked: a job below the break-even opens at
// once, without a word; one at the break-even says why it checks first
// and shows the check's progress (stopped here once it has moved: the
// whole check is app's TestPrecisionCheckAuto).
func TestCheckPrecisionFirst(t *testing.T) {
	t.Setenv("CLASIFICA_HOME", t.TempDir())
	if code, _, errOut := clasifica(t, "backbone", "import", mltest.Backbone(t)); code != 0 {
		t.Fatalf("backbone import: exit %d\n%s", code, errOut)
	}
	dirs, err := app.DefaultDirs()
	if err != nil {
		t.Fatal(err)
	}
	opt := app.EngineOptions{Runtime: mltest.RuntimeLibrary(t), Provider: onnxrt.CPU}
	pays := 1
	for !app.PrecisionCheckPays(pays) {
		pays++
	}
	var errOut strings.Builder
	e := &env{app: app.New(dirs), stdout: io.Discard, stderr: &errOut}
	if err := e.checkPrecisionFirst(context.Background(), opt, pays-1); err != nil || errOut.Len() > 0 {
		t.Fatalf("%d photos: %v\n%s", pays-1, err, errOut.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.stderr = &cancelOnProgress{w: &errOut, cancel: cancel}
	if err := e.checkPrecisionFirst(ctx, opt, pays); !errors.Is(err, context.Canceled) {
		t.Fatalf("%d photos: %v\n%s", pays, err, errOut.String())
	}
	for _, want := range []string{"Checking 8 bits on this computer first (once, a minute or two): on this many photos", "checking 8 bits ", "/522"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("no %q in:\n%s", want, errOut.String())
		}
	}
}

// cancelOnProgress passes what is written on to w, and cancels once a
// progress line of the check shows photos done.
type cancelOnProgress struct {
	w      io.Writer
	cancel func()
}

func (c *cancelOnProgress) Write(b []byte) (int, error) {
	for _, line := range strings.Split(string(b), "\n") {
		if done, ok := checkProgress(line); ok && done > 0 {
			c.cancel()
		}
	}
	return c.w.Write(b)
}

// checkProgress reads the photos done from a progress line of the check
// ("checking 8 bits  3%  20/597 …").
func checkProgress(line string) (int, bool) {
	rest, ok := strings.CutPrefix(strings.TrimLeft(line, "\r\x1b[K"), "checking 8 bits")
	if !ok {
		return 0, false
	}
	for _, f := range strings.Fields(rest) {
		if d, _, ok := strings.Cut(f, "/"); ok {
			n, err := strconv.Atoi(d)
			return n, err == nil
		}
	}
	return 0, false
}
