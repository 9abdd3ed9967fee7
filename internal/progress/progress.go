// Package progress is how every long step of Clasifica says how far it
// has come: a count done of a total, the time it has taken, and from them
// a rate and the time left. Extraction, the label check's stages and the
// commands that show bars share it, so that every bar can say the same
// things.
package progress

import "time"

// Progress reports how far a step has come.
type Progress struct {
	Done  int // items finished, however they finished
	Total int
	// FromCache counts the finished items found in a cache: they cost
	// nothing, so the rate leaves them out (counting them would promise a
	// time left that the uncached items cannot keep).
	FromCache int
	// Failed counts the finished items that could not be done.
	Failed int
	// Elapsed is the time since the step started.
	Elapsed time.Duration
}

// Rate returns the items per second worked on so far (cached items
// excluded); zero until some time has passed.
func (p Progress) Rate() float64 {
	s := p.Elapsed.Seconds()
	if s <= 0 {
		return 0
	}
	return float64(p.Done-p.FromCache) / s
}

// Remaining estimates the time left, assuming the remaining items need
// work; zero until a rate is known, and when the total is unknown.
func (p Progress) Remaining() time.Duration {
	r := p.Rate()
	if r <= 0 || p.Total <= p.Done {
		return 0
	}
	return time.Duration(float64(p.Total-p.Done) / r * float64(time.Second))
}

// Fraction returns Done/Total, from 0 to 1; 0 when the total is unknown.
func (p Progress) Fraction() float64 {
	if p.Total <= 0 {
		return 0
	}
	return min(1, float64(p.Done)/float64(p.Total))
}

// Clock stamps counts with the time since a step started.
type Clock struct{ start time.Time }

// Start starts a clock now.
func Start() Clock { return Clock{start: time.Now()} }

// At returns the progress of done items of total now.
func (c Clock) At(done, total int) Progress {
	return Progress{Done: done, Total: total, Elapsed: time.Since(c.start)}
}
