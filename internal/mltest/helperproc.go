package mltest

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// HelperProcess runs the test binary again as a second process, for tests
// of what two processes do at once (the standard pattern: TestMain, or a
// test function that skips otherwise, sees one of env's variables and
// plays the other process). args are the binary's arguments ("-test.run=^$"
// when none: no test runs, only TestMain's helper); env is added to this
// process's environment. It returns once the helper wrote the line ready
// on its stdout; a line written to in, or closing it, tells the helper to
// go on. The helper is killed, if still running, when the test ends.
func HelperProcess(t testing.TB, args, env []string, ready string) (cmd *exec.Cmd, in io.WriteCloser) {
	t.Helper()
	if len(args) == 0 {
		args = []string{"-test.run=^$"}
	}
	cmd = exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != ready+"\n" {
		t.Fatalf("helper process: read %q, %v; want %q", line, err, ready)
	}
	return cmd, in
}

// AtOnce runs work(0), …, work(n-1) on n goroutines at once, for tests of
// what concurrent changes keep, and fails the test with their errors once
// all have returned.
func AtOnce(t testing.TB, n int, work func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = work(i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}
