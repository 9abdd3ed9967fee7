package app

import (
	"context"
	"errors"
	"sync"

	"github.com/clasifica/clasifica/ml/model"
)

// Engines keeps the engines the desktop app has opened, one per backbone
// and set of options, so that training, evaluating and classifying reuse a
// session instead of spending a second or two opening one each time. It is
// safe for concurrent use; opening is serialised, since two sessions of the
// same backbone would only compete for memory.
type Engines struct {
	app  *App
	mu   sync.Mutex
	open map[engineKey]*Engine
}

// engineKey identifies an engine: the backbone by its weights, and how it
// runs.
type engineKey struct {
	sha   string
	tuned string // the fine-tuned blocks' hash, if any
	opt   EngineOptions
}

// NewEngines returns an empty set of engines over a.
func NewEngines(a *App) *Engines {
	return &Engines{app: a, open: map[engineKey]*Engine{}}
}

// Open returns an engine for the backbone opt names (the default when
// empty), opening it on first use. Engines stay open until Close.
func (e *Engines) Open(ctx context.Context, opt EngineOptions) (*Engine, error) {
	in, err := e.app.Backbones.Default(opt.Backbone)
	if err != nil {
		return nil, err
	}
	return e.get(ctx, in, opt, nil)
}

// OpenFor returns an engine for the backbone m was trained on, with m's
// fine-tuned blocks if it has any.
func (e *Engines) OpenFor(ctx context.Context, m *model.Model, opt EngineOptions) (*Engine, error) {
	in, err := e.app.Backbones.Find(m.Backbone)
	if err != nil {
		return nil, err
	}
	return e.get(ctx, in, opt, m)
}

func (e *Engines) get(ctx context.Context, in Installed, opt EngineOptions, m *model.Model) (*Engine, error) {
	opt.Backbone = ""
	k := engineKey{sha: in.SHA256, opt: opt}
	if m != nil && len(m.Top) > 0 {
		k.tuned = topHash(m)
	} else {
		m = nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if eng, ok := e.open[k]; ok {
		return eng, nil
	}
	eng, err := e.app.openEngineFor(ctx, in, opt, m)
	if err != nil {
		return nil, err
	}
	e.open[k] = eng
	return eng, nil
}

// Close closes every engine. Call it when no job uses them any more.
func (e *Engines) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for k, eng := range e.open {
		errs = append(errs, eng.Close())
		delete(e.open, k)
	}
	return errors.Join(errs...)
}
