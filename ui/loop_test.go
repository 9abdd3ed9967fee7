package ui

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"

	"fyne.io/fyne/v2"
)

// uiLoop stands in for the app's event loop under Fyne's test driver. The
// test driver's fyne.Do runs a function at once on whichever goroutine
// calls it, so two jobs reporting at once, or a job and the test, would
// change the same widgets together: the race detector found two thousand
// such races in this package, and one crashed a CI run inside
// canvas.Image. Here, as in the app, one goroutine at a time plays the UI
// goroutine: the test's, while it runs (its taps and checks are a
// person's clicks), and the loop's own, which runs the functions other
// goroutines hand to fyne.Do, in order, one at a time, only while the
// test waits (settle, waitFor). A function handed over by the test or by
// one of those functions runs at once, as the test driver runs it.
type uiLoop struct {
	token sync.Mutex // held by whichever goroutine plays the UI goroutine
	held  bool       // the test holds token; read and written by the test only

	mu     sync.Mutex
	cond   *sync.Cond
	queue  []func()
	busy   int    // functions queued or running
	runner uint64 // the loop's goroutine
}

// loop is the package's one event loop: the windows of a test, and of
// the tests after it, share it, as the windows of an app share one.
var loop = newUILoop()

func newUILoop() *uiLoop {
	l := &uiLoop{}
	l.cond = sync.NewCond(&l.mu)
	started := make(chan struct{})
	go func() {
		l.runner = goroutineID()
		close(started)
		l.run()
	}()
	<-started
	return l
}

func (l *uiLoop) run() {
	for {
		l.mu.Lock()
		for len(l.queue) == 0 {
			l.cond.Wait()
		}
		f := l.queue[0]
		l.queue = l.queue[1:]
		l.mu.Unlock()

		l.token.Lock()
		f()
		l.token.Unlock()

		l.mu.Lock()
		l.busy--
		l.cond.Broadcast()
		l.mu.Unlock()
	}
}

// do runs f as fyne.Do would in the app: at once on the UI goroutine,
// later from any other; with wait, the caller waits until it has run.
func (l *uiLoop) do(f func(), wait bool) {
	if id := goroutineID(); id == l.runner || onTestGoroutine() {
		f()
		return
	}
	var done chan struct{}
	if wait {
		done = make(chan struct{})
		g := f
		f = func() {
			defer close(done)
			g()
		}
	}
	l.mu.Lock()
	l.queue = append(l.queue, f)
	l.busy++
	l.cond.Broadcast()
	l.mu.Unlock()
	if wait {
		<-done
	}
}

// hold makes the test the UI goroutine, waiting for a function that runs.
func (l *uiLoop) hold() {
	if !l.held {
		l.token.Lock()
		l.held = true
	}
}

// let lets the loop run what other goroutines handed over.
func (l *uiLoop) let() {
	if l.held {
		l.held = false
		l.token.Unlock()
	}
}

// idle waits until nothing is queued or running; the test must not hold
// the loop.
func (l *uiLoop) idle() {
	l.mu.Lock()
	for l.busy > 0 {
		l.cond.Wait()
	}
	l.mu.Unlock()
}

// install makes fyne.Do, for the app fa, go through the loop, and makes
// the test the UI goroutine.
func (l *uiLoop) install(fa fyne.App) {
	fyne.SetCurrentApp(loopApp{App: fa, driver: loopDriver{Driver: fa.Driver(), loop: l}})
	l.hold()
}

// loopApp is a test app whose driver hands fyne.Do to the loop.
type loopApp struct {
	fyne.App
	driver loopDriver
}

func (a loopApp) Driver() fyne.Driver { return a.driver }

type loopDriver struct {
	fyne.Driver
	loop *uiLoop
}

func (d loopDriver) DoFromGoroutine(f func(), wait bool) { d.loop.do(f, wait) }

// goroutineID returns the calling goroutine's number, from its stack.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// onTestGoroutine reports whether the caller runs a test function.
func onTestGoroutine() bool {
	buf := make([]byte, 64<<10)
	return bytes.Contains(buf[:runtime.Stack(buf, false)], []byte("\ntesting.tRunner("))
}
