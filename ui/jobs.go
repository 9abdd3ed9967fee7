package ui

import (
	"context"
	"sync"
)

// jobs runs slow work (scanning, training, classifying, downloading) off
// the UI goroutine, which must never wait: the work reports back through
// fyne.Do. Tests and closing the window wait for the jobs to end.
type jobs struct {
	wg sync.WaitGroup
}

// start runs work on a new goroutine.
func (j *jobs) start(work func()) {
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		work()
	}()
}

// wait blocks until every job has ended.
func (j *jobs) wait() { j.wg.Wait() }

// task is a cancellable job a screen runs, at most one at a time.
type task struct {
	cancel context.CancelFunc
	id     int
}

// begin cancels the running task, if any, and returns the context of a
// new one with its id; a job checks the id before touching the screen so
// that a superseded job's late results are dropped.
func (t *task) begin() (context.Context, int) {
	t.stop()
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.id++
	return ctx, t.id
}

// stop cancels the running task.
func (t *task) stop() {
	if t.cancel != nil {
		t.cancel()
		t.cancel = nil
	}
}

// running reports whether a task is under way.
func (t *task) running() bool { return t.cancel != nil }

// done marks task id as finished, if it is still the current one, and
// reports whether it was.
func (t *task) done(id int) bool {
	if id != t.id {
		return false
	}
	if t.cancel != nil {
		t.cancel()
		t.cancel = nil
	}
	return true
}

// current reports whether id is the running task.
func (t *task) current(id int) bool { return id == t.id && t.cancel != nil }
