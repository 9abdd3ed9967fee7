package app

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/clasifica/clasifica/ml/model"
)

// Engines keeps the engines the desktop app opens, one per backbone and
// set of options, so that training, evaluating and classifying reuse a
// session instead of spending a second or two opening one each time. An
// engine holds a few hundred MB, so the set does not keep them all: once
// nobody uses an engine (every Open's release was called), it is closed if
// it was opened with other options than the latest request's (the
// settings changed, and a job that still ran on the old ones has ended),
// or if more than keepIdle engines are idle (the least recently used
// goes). Engines is safe for concurrent use; opening is serialised, since
// two sessions of the same backbone would only compete for memory.
type Engines struct {
	app    *App
	mu     sync.Mutex
	open   map[engineKey]*sharedEngine
	latest EngineOptions // of the latest request, its Backbone cleared
	clock  uint64        // counts requests and releases, for least recently used
}

// keepIdle is how many engines nobody uses stay open: the plain backbone
// and one model's fine-tuned blocks, say, between a training and a
// classification with the same settings.
const keepIdle = 2

// sharedEngine is an open engine and who uses it.
type sharedEngine struct {
	eng   *Engine
	users int
	used  uint64 // Engines.clock when last requested or released
}

// engineKey identifies an engine: the backbone by its weights, and how it
// runs.
type engineKey struct {
	sha   string
	tuned string // the fine-tuned blocks' hash, if any
	opt   EngineOptions
	prec  Precision // what the engine runs: float and 8 bits may both be open
}

// NewEngines returns an empty set of engines over a.
func NewEngines(a *App) *Engines {
	return &Engines{app: a, open: map[engineKey]*sharedEngine{}}
}

// Open returns an engine for the backbone opt names (the default when
// empty), opening it on first use, and release, to call once the caller
// no longer uses the engine (a job's end); release is never nil, and
// calling it again does nothing. The engine stays open until then.
func (e *Engines) Open(ctx context.Context, opt EngineOptions) (*Engine, func(), error) {
	in, err := e.app.Backbones.Default(opt.Backbone)
	if err != nil {
		return nil, func() {}, err
	}
	return e.get(ctx, in, opt, nil)
}

// OpenFor is Open for the backbone m was trained on, with m's fine-tuned
// blocks if it has any.
func (e *Engines) OpenFor(ctx context.Context, m *model.Model, opt EngineOptions) (*Engine, func(), error) {
	in, err := e.app.Backbones.Find(m.Backbone)
	if err != nil {
		return nil, func() {}, err
	}
	return e.get(ctx, in, opt.ForModel(m), m)
}

func (e *Engines) get(ctx context.Context, in Installed, opt EngineOptions, m *model.Model) (*Engine, func(), error) {
	opt.Backbone = ""
	// An engine for a model must run the precision the model needs; the
	// window's own engine (no model) serves it when it runs that one, so
	// the model is left out of the key and its need checked instead.
	need := opt.neededPrecision()
	base := opt
	base.model = ""
	k := engineKey{sha: in.SHA256, opt: base}
	if m != nil && len(m.Top) > 0 {
		k.tuned = topHash(m)
	} else {
		m = nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// A request cancelled while it waited for the lock (the settings
	// changed again) neither opens an engine nor counts as the latest.
	if err := ctx.Err(); err != nil {
		return nil, func() {}, err
	}
	e.clock++
	e.latest = base
	var s *sharedEngine
	for key, c := range e.open {
		if e.app.staleChoice(c.eng) {
			// Float for want of an 8-bit check, which is made now: the
			// next engine follows it, and this one goes once unused.
			if c.users == 0 {
				c.eng.Close()
				delete(e.open, key)
			}
			continue
		}
		if key.sha == k.sha && key.tuned == k.tuned && key.opt == base && (need == "" || c.eng.Precision == need) {
			s, k = c, key
			break
		}
	}
	if s == nil {
		// What the new settings made stale goes before the new engine
		// takes its memory.
		e.trim()
		eng, err := e.app.openEngineFor(ctx, in, opt, m)
		if err != nil {
			return nil, func() {}, err
		}
		s = &sharedEngine{eng: eng}
		k.prec = eng.Precision
		e.open[k] = s
	}
	s.users++
	s.used = e.clock
	var once sync.Once
	return s.eng, func() { once.Do(func() { e.release(k, s) }) }, nil
}

// release ends one use of s, open under k.
func (e *Engines) release(k engineKey, s *sharedEngine) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clock++
	s.users--
	s.used = e.clock
	e.trim()
}

// trim closes the engines nobody uses that were opened with other options
// than the latest request's or that a new 8-bit check made stale, and the least recently used idle ones beyond
// keepIdle. The caller holds e.mu.
func (e *Engines) trim() {
	var idle []engineKey
	for k, s := range e.open {
		switch {
		case s.users > 0:
		case k.opt != e.latest, e.app.staleChoice(s.eng):
			s.eng.Close()
			delete(e.open, k)
		default:
			idle = append(idle, k)
		}
	}
	if len(idle) <= keepIdle {
		return
	}
	slices.SortFunc(idle, func(a, b engineKey) int { return cmp.Compare(e.open[b].used, e.open[a].used) })
	for _, k := range idle[keepIdle:] {
		e.open[k].eng.Close()
		delete(e.open, k)
	}
}

// Busy reports whether a job uses one of the engines: the user's own
// work (training, classifying, checking labels), which a background
// 8-bit check waits for.
func (e *Engines) Busy() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.open {
		if s.users > 0 {
			return true
		}
	}
	return false
}

// Len reports how many engines are open.
func (e *Engines) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.open)
}

// Close closes every engine. Call it when no job uses them any more.
func (e *Engines) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for k, s := range e.open {
		errs = append(errs, s.eng.Close())
		delete(e.open, k)
	}
	return errors.Join(errs...)
}
