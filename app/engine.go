package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/clasifica/clasifica/ml/augment"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
)

// App is the application core: its folders and its backbone store.
type App struct {
	Dirs      Dirs
	Backbones *Backbones
	providers *providerCache
	speeds    *speeds
	precision *precisionChecks
	movers    movers
	// decisionsMu serialises ChangeDecisions: each change reads, changes
	// and writes the whole record, and two at once (the app copies each
	// correction in a job of its own) would keep only the last one's.
	decisionsMu sync.Mutex
	// lockWait bounds the wait for another process changing the same
	// file (0: filelock.Patience); tests shorten it.
	lockWait time.Duration
	// correcting serialises AddCorrection, whose check against the folder
	// must see the corrections before it recorded.
	correcting sync.Mutex
	// settingsMu serialises the changes of the settings file within the
	// process; its lock file does so between processes.
	settingsMu sync.Mutex
}

// New returns the application core over dirs.
func New(dirs Dirs) *App {
	return &App{Dirs: dirs, Backbones: &Backbones{Dir: dirs.Backbones()},
		providers: &providerCache{mem: map[string][]ProviderStatus{}, file: filepath.Join(dirs.Cache, "providers.json")},
		speeds:    &speeds{file: filepath.Join(dirs.Cache, "speeds.json")},
		precision: &precisionChecks{file: filepath.Join(dirs.Cache, "precision.json")}}
}

// EngineOptions choose what runs the backbone.
type EngineOptions struct {
	// Runtime is the ONNX Runtime library; empty means FindRuntime's search.
	Runtime string
	// Backbone is an installed backbone's id, or a path to weights to
	// import; empty means the default backbone.
	Backbone string
	// Provider is the execution provider asked for; what really runs is
	// the engine's RunsOn.
	Provider onnxrt.Provider
	Threads  int
	// Strict fails rather than fall back to the CPU when Provider cannot
	// run the model (for measuring one provider).
	Strict bool
	// LowPower asks WebGPU for the power-saving adapter.
	LowPower bool
	// Device is the GPU's index for CUDA and DirectML; 0 is the first.
	Device int
	// ProviderOptions are key=value pairs, separated by commas, passed to
	// the GPU provider as they are (see onnxrt.Options.ProviderOptions).
	// A string, so that options stay comparable (engines are cached by
	// their options).
	ProviderOptions string
	// JPEG chooses the JPEG decoder of the photos fed to the backbone;
	// the zero value is the fastest built in (photo.JPEGAuto).
	JPEG photo.JPEGDecoder
	// Precision chooses float or 8-bit arithmetic for the image model;
	// empty means auto (see Engine.Precision for what runs, and why).
	Precision Precision
	// FineTuning says the engine feeds fine-tuning, whose mixed8 pass
	// runs in float: its features are then float too.
	FineTuning bool
	// model is the precision of the model an engine is opened for (its
	// features' precision), empty for a backbone's own engine.
	model Precision
	// closeShare is the share of close calls the model, trained on 8-bit
	// features, measured (model.Backbone.CloseShare).
	closeShare float64
}

// ForModel returns the options for an engine that classifies with m, or
// continues its training: its features in the precision m was trained
// with, unless asked otherwise.
func (opt EngineOptions) ForModel(m *model.Model) EngineOptions {
	if m != nil {
		opt.model = modelPrecision(m)
		opt.closeShare = m.Backbone.CloseShare
	}
	return opt
}

// Engine runs one backbone: its ONNX Runtime session and feature cache.
type Engine struct {
	Backbone Installed
	// Engine is the runtime and the options the session was opened with
	// (provider, threads, GPU, power preference), the provider pinned to
	// the one the session landed on. Training jobs get it whole, so that
	// every session they open runs where the backbone's runs, without
	// trying the accelerators that failed here again.
	onnxrt.Engine
	Session *onnxrt.Session
	Cache   *features.Cache
	// tuned identifies the fine-tuned blocks the session runs instead of
	// the backbone's own ("" for none); it keeps their features apart in
	// the cache.
	tuned string
	// jpeg is the JPEG decoder of the photos it extracts features from.
	jpeg photo.JPEGDecoder
	// Precision is the arithmetic the image model runs in, float or
	// int8; PrecisionReason says why, for people.
	Precision       Precision
	PrecisionReason string
	// float is the float image model an 8-bit engine computes close calls
	// again with (see Classifier.settle), opened when the first one
	// comes; nil for a float engine.
	float *lazySession
}

// lazySession is a session opened on first use and closed again once
// unused for floatIdle: the float twin of an 8-bit engine costs no memory
// or start-up time until a photo needs it, and gives its memory back
// (170–270 MB) when close calls stop coming, in an app left open.
type lazySession = lazy[*onnxrt.Session]

// floatIdle is how long the float twin stays open after its last use:
// close calls come every few batches while a folder is sorted, and
// opening it again costs a few tenths of a second.
const floatIdle = time.Minute

// lazy is a value opened on first use (see get) and closed once unused
// for idle.
type lazy[T interface{ Close() error }] struct {
	mu     sync.Mutex
	open   func(context.Context) (T, error)
	idle   time.Duration
	v      T
	isOpen bool
	users  int
	timer  *time.Timer
	// gen changes whenever a pending close must not happen: a close
	// timer that fires while get waits for the lock sees it changed.
	gen int
}

// get returns the value, opening it when it is not open (a failed open is
// tried again on the next call), and a function to call once done with
// it: the value stays open while any caller uses it.
func (l *lazy[T]) get(ctx context.Context) (T, func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopTimer()
	if !l.isOpen {
		v, err := l.open(ctx)
		if err != nil {
			var zero T
			return zero, func() {}, err
		}
		l.v, l.isOpen = v, true
	}
	l.users++
	var once sync.Once
	return l.v, func() { once.Do(l.release) }, nil
}

// release ends one use; the last one starts the idle timer.
func (l *lazy[T]) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.users--; l.users > 0 || !l.isOpen {
		return
	}
	gen := l.gen
	l.timer = time.AfterFunc(l.idle, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if gen != l.gen || l.users > 0 || !l.isOpen {
			return
		}
		l.timer = nil
		// Nobody is left to tell of an error: the next use opens anew.
		l.closeLocked()
	})
}

// stopTimer cancels a pending close (l.mu held).
func (l *lazy[T]) stopTimer() {
	l.gen++
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// closeLocked closes the value if it is open (l.mu held).
func (l *lazy[T]) closeLocked() error {
	if !l.isOpen {
		return nil
	}
	err := l.v.Close()
	var zero T
	l.v, l.isOpen = zero, false
	return err
}

// opened reports whether the value is open.
func (l *lazy[T]) opened() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.isOpen
}

// close closes the value if it is open, at once.
func (l *lazy[T]) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopTimer()
	return l.closeLocked()
}

// ResolveBackbone returns the installed backbone spec names: an installed
// id, a path to weights (imported first), or, when spec is empty, the
// default.
func (a *App) ResolveBackbone(ctx context.Context, spec string) (Installed, error) {
	if spec == "" {
		return a.Backbones.Default("")
	}
	if in, err := a.Backbones.Get(spec); err == nil {
		return in, nil
	}
	if _, err := os.Stat(spec); err == nil {
		return a.Backbones.Import(ctx, spec)
	}
	return Installed{}, fmt.Errorf("backbone %q is neither installed nor a file or folder of weights (see `clasifica backbone list`)", spec)
}

// OpenEngine loads the runtime and a session for the chosen backbone.
// Cancelling ctx stops an import or a rebuild of the backbone's graph; a
// session already being built by ONNX Runtime finishes first.
func (a *App) OpenEngine(ctx context.Context, opt EngineOptions) (*Engine, error) {
	in, err := a.ResolveBackbone(ctx, opt.Backbone)
	if err != nil {
		return nil, err
	}
	return a.openEngine(ctx, in, opt)
}

// OpenEngineFor loads the runtime and a session for the backbone m was
// trained on, with m's fine-tuned blocks if it has any.
func (a *App) OpenEngineFor(ctx context.Context, m *model.Model, opt EngineOptions) (*Engine, error) {
	in, err := a.Backbones.Find(m.Backbone)
	if err != nil {
		return nil, err
	}
	return a.openEngineFor(ctx, in, opt.ForModel(m), m)
}

func (a *App) openEngine(ctx context.Context, in Installed, opt EngineOptions) (*Engine, error) {
	return a.openEngineFor(ctx, in, opt, nil)
}

// openEngineFor opens an engine on in, running m's fine-tuned blocks when
// m is not nil and has some.
func (a *App) openEngineFor(ctx context.Context, in Installed, opt EngineOptions, m *model.Model) (*Engine, error) {
	rt, err := LoadRuntime(opt.Runtime, a.Dirs)
	if err != nil {
		return nil, err
	}
	exec := onnxrt.Engine{Runtime: rt, Options: opt.sessionOptions()}
	tuned := ""
	isTuned := m != nil && len(m.Top) > 0
	prec, why, err := a.choosePrecision(ctx, in, opt, exec, isTuned)
	if err != nil {
		return nil, err
	}
	// Only the backbone's own session is built through the saved graph:
	// exec is carried into training, whose sessions are other models.
	backboneExec := exec
	// Its runs share the cores with the decoding of the next photos
	// (extraction, folders); threads spinning between operators and
	// runs took CPU from the decoders, and under load from everything
	// else: on 2 cores, folders of phone photos ran 4% faster without,
	// batch 1 2.9× as fast under load, 7% slower on a quiet machine.
	backboneExec.Options.Spin = onnxrt.SpinNever
	var s *onnxrt.Session
	switch {
	case isTuned:
		tuned = topHash(m)
		s, err = backboneSession(ctx, backboneExec, in, a.Backbones.graphFile(in, tuned), false, func() ([]byte, error) {
			return a.Backbones.TunedFeatureModel(ctx, in, m)
		})
	case prec == PrecisionInt8:
		s, err = backboneSession(ctx, backboneExec, in, filepath.Join(in.Dir, int8ModelFile), true, func() ([]byte, error) {
			return a.Backbones.Int8FeatureModel(ctx, in, exec)
		})
	default:
		s, err = backboneSession(ctx, backboneExec, in, a.Backbones.graphFile(in, ""), true, func() ([]byte, error) {
			return a.Backbones.FeatureModel(ctx, in)
		})
	}
	if err != nil {
		return nil, err
	}
	exec.Options.Provider = s.Provider()
	cache, err := features.OpenCache(a.Dirs.Features())
	if err != nil {
		s.Close()
		return nil, err
	}
	e := &Engine{Backbone: in, Engine: exec, Session: s, Cache: cache, tuned: tuned, jpeg: opt.JPEG,
		Precision: prec, PrecisionReason: why}
	if prec == PrecisionInt8 {
		floatExec := backboneExec
		floatExec.Options.Provider = s.Provider()
		e.float = &lazySession{idle: floatIdle, open: func(ctx context.Context) (*onnxrt.Session, error) {
			s, err := backboneSession(ctx, floatExec, in, a.Backbones.graphFile(in, ""), true, func() ([]byte, error) {
				return a.Backbones.FeatureModel(ctx, in)
			})
			if err != nil {
				return nil, fmt.Errorf("the float image model for close calls: %w", err)
			}
			return s, nil
		}}
	}
	return e, nil
}

// Close releases the sessions.
func (e *Engine) Close() error {
	err := e.Session.Close()
	if e.float != nil {
		if ferr := e.float.close(); err == nil {
			err = ferr
		}
	}
	return err
}

// floatTwin returns the engine in float, on the same backbone, decoder
// and feature cache, for computing an 8-bit engine's close calls again,
// and the function to call once done with it: its float session is
// opened on the first call and closed when unused for floatIdle (or by
// the engine's Close). It is not for closing.
func (e *Engine) floatTwin(ctx context.Context) (*Engine, func(), error) {
	s, release, err := e.float.get(ctx)
	if err != nil {
		return nil, release, err
	}
	f := *e
	f.Session, f.Precision, f.PrecisionReason, f.float = s, PrecisionFloat, "close calls of 8 bits", nil
	return &f, release, nil
}

// Ref identifies the engine's backbone in a model.
func (e *Engine) Ref() model.Backbone {
	b := model.Backbone{ID: e.Backbone.ID, Name: e.Backbone.Name, SHA256: e.Backbone.SHA256,
		Preprocess: e.Backbone.Preprocess, ImageSize: inception.Size}
	if e.Precision == PrecisionInt8 {
		b.Precision = string(PrecisionInt8)
	}
	return b
}

// Device describes where the backbone really runs, for people: "CPU",
// "CUDA (NVIDIA H200)", "WebGPU, some layers on the CPU", …
func (e *Engine) Device() string { return e.Session.Placement().String() }

func (opt EngineOptions) sessionOptions() onnxrt.Options {
	return onnxrt.Options{Provider: opt.Provider, Threads: opt.Threads, Strict: opt.Strict, LowPower: opt.LowPower, Device: opt.Device, ProviderOptions: providerOptions(opt.ProviderOptions)}
}

// providerOptions splits "k=v,k=v" (checked by the front end) into a map.
func providerOptions(s string) map[string]string {
	if s == "" {
		return nil
	}
	m := map[string]string{}
	for kv := range strings.SplitSeq(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// Extractor returns a feature extractor on the engine's session; with
// cache, features are kept in and taken from the feature cache.
func (e *Engine) Extractor(cache bool) *features.Extractor {
	aug := augment.Default()
	x := &features.Extractor{
		Session:   e.Session,
		Backbone:  e.cacheID(),
		Limits:    photo.Limits{JPEG: e.jpeg},
		AugmentID: aug.ID(),
		Augment: func(p *photo.RGB, _ int, seed uint64) *photo.RGB {
			return aug.Apply(p, seed)
		},
	}
	if e.Session != nil && e.Session.Provider() != onnxrt.CPU {
		// A GPU computes a batch of 32 at 1.6 times the rate of a batch
		// of 8 (CUDA on an H200: 2,400 against 1,500 images/s); on a
		// CPU batches of 8 are as fast and keep the memory arena small.
		x.Batch, x.FixedBatch = gpuBatch, true
	}
	if cache {
		x.Cache = e.Cache
	}
	return x
}

// gpuBatch is the extraction batch on a GPU provider.
const gpuBatch = 32

// cacheID names the engine's features in the cache: the backbone's
// SHA-256, the fine-tuned blocks' hash when the session runs some, and
// the precision when it is 8 bits.
func (e *Engine) cacheID() string {
	id := e.Backbone.SHA256
	if e.tuned != "" {
		id += "-tuned-" + e.tuned
	}
	// 8-bit features are kept apart from the float ones (float keeps
	// the key it always had).
	if e.Precision == PrecisionInt8 {
		id += "-int8"
	}
	return id
}

// CacheDir returns the feature cache's folder for the engine's backbone.
func (e *Engine) CacheDir() string { return filepath.Join(e.Cache.Dir(), e.Backbone.SHA256) }
