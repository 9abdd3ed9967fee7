package ui

import (
	"context"
	"sync"
)

// jobs runs slow work (scanning, training, classifying, downloading) off
// the UI goroutine, which must never wait: the work reports back through
// fyne.Do. Tests and closing the window wait for the jobs to end. A count
// under a lock rather than a sync.WaitGroup: a job's report may start the
// next job while a test waits for the jobs, and a WaitGroup must not be
// added to while it is waited on.
type jobs struct {
	mu      sync.Mutex
	ended   *sync.Cond
	running int
}

// start runs work on a new goroutine.
func (j *jobs) start(work func()) {
	j.mu.Lock()
	j.running++
	j.mu.Unlock()
	go func() {
		defer func() {
			j.mu.Lock()
			j.running--
			if j.ended != nil {
				j.ended.Broadcast()
			}
			j.mu.Unlock()
		}()
		work()
	}()
}

// wait blocks until every job has ended, those started meanwhile too.
func (j *jobs) wait() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ended == nil {
		j.ended = sync.NewCond(&j.mu)
	}
	for j.running > 0 {
		j.ended.Wait()
	}
}

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
