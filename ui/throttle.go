package ui

import "time"

// progressEvery is how often a progress bar is redrawn at most.
const progressEvery = 100 * time.Millisecond

// throttle is the one rate limit of the progress bars: it lets through one
// update per progressEvery, and always the last (done == total), so that a
// fast job does not flood Fyne's goroutine with redraws and the bar still
// ends full. A job's progress function calls it from one goroutine at a
// time.
type throttle struct {
	last time.Time
	now  func() time.Time // time.Now; tests replace it
}

// newThrottle returns a throttle whose first update passes.
func newThrottle() *throttle { return &throttle{now: time.Now} }

// pass reports whether the update of done out of total is to be shown.
func (t *throttle) pass(done, total int) bool {
	now := t.now()
	if done < total && now.Sub(t.last) < progressEvery {
		return false
	}
	t.last = now
	return true
}
