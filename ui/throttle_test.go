package ui

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	clock := time.Unix(1000, 0)
	th := newThrottle()
	th.now = func() time.Time { return clock }
	steps := []struct {
		after       time.Duration // since the previous update
		done, total int
		want        bool
	}{
		{0, 0, 10, true},                      // the first update shows
		{10 * time.Millisecond, 1, 10, false}, // too soon
		{50 * time.Millisecond, 2, 10, false}, // 60 ms after the last shown
		{40 * time.Millisecond, 3, 10, true},  // 100 ms after it
		{1 * time.Millisecond, 4, 10, false},
		{1 * time.Millisecond, 10, 10, true}, // the last always shows
	}
	for i, s := range steps {
		clock = clock.Add(s.after)
		if got := th.pass(s.done, s.total); got != s.want {
			t.Errorf("step %d (%d of %d, %v later): pass %v, want %v", i, s.done, s.total, s.after, got, s.want)
		}
	}
}
