// Package features turns photos into InceptionV3 feature vectors: photos
// are decoded and resized by parallel workers while batches run through the
// backbone in ONNX Runtime, and the vectors are kept in an on-disk cache
// keyed by photo content, so each photo is seen by the backbone once.
package features

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
)

// Dim is the length of a feature vector.
const Dim = inception.Features

// Item is one photo to extract features from.
type Item struct {
	Path string
	// Hash is the SHA-256 of the file's content. It keys the cache; with a
	// zero Hash the cache is not used for this item.
	Hash [32]byte
	// View selects an augmented view of the photo: 0 is the photo itself,
	// k > 0 the k-th augmented view (see Extractor.Augment).
	View int
}

// Progress reports how far an extraction has come: Done counts items
// finished, from the cache, computed or failed; FromCache those whose
// vectors came from the cache; Failed those that could not be read or
// decoded. Its rate is the images per second the backbone computes.
type Progress = progress.Progress

// Result holds the features of every item, in the order of the items.
type Result struct {
	// Features holds len(items) rows of Dim values; the rows of failed
	// items are zero.
	Features []float32
	// Errs holds, for each item, why it failed, or nil. The errors are
	// *photo.Error for unreadable or undecodable photos.
	Errs []error
	// FromCache counts the items whose features came from the cache.
	FromCache int
	dim       int
}

// Row returns the features of item i.
func (r *Result) Row(i int) []float32 {
	d := r.dim
	if d == 0 {
		d = Dim
	}
	return r.Features[i*d : (i+1)*d]
}

// Extractor extracts features with a backbone session.
type Extractor struct {
	// Session runs the backbone's feature model (inception.Model).
	Session *onnxrt.Session
	// Backbone identifies the backbone in cache keys; required with Cache.
	Backbone string
	// Cache, if set, provides and keeps features of items with a Hash.
	Cache *Cache
	// Batch is the number of photos per inference; 0 means 8, which runs
	// as fast as larger batches on a CPU and keeps ONNX Runtime's memory
	// arena small.
	Batch int
	// FixedBatch runs every batch with Batch photos: a short last batch is
	// filled up with blank photos, whose vectors are dropped. A GPU
	// provider otherwise prepares its convolutions again for the new
	// shape (CUDA searches cuDNN's algorithms for each one).
	FixedBatch bool
	// Workers is the number of decoding goroutines; 0 means one per CPU.
	Workers int
	// Limits bound what a photo file may cost to decode.
	Limits photo.Limits
	// Augment, if set, returns the view-th augmented version of a photo
	// (view >= 1); seed is derived from the photo's hash and the view, so
	// each view is the same every time. AugmentID names the augmentation
	// settings in cache keys, so that changing them recomputes the views.
	Augment   func(p *photo.RGB, view int, seed uint64) *photo.RGB
	AugmentID string

	// Dim is the length of the vector Session outputs per photo; 0 means
	// Dim (the pooled features). The mixed8 activations fine-tuning reads
	// are inception.Mixed8Model's 81,920 values.
	Dim int
	// Half stores vectors in the cache as float16 (Cache.PutHalf).
	Half bool
	// Discard keeps vectors in the cache only: Result.Features stays nil,
	// so that extracting the mixed8 activations of 10,000 photos (3 GB as
	// float32) takes no memory; the trainer streams them from the cache.
	// Items must have a Hash, and a Cache must be set.
	Discard bool

	// Decoded, if set, is called with each photo decoded for the
	// backbone, at the backbone's 299×299 and before any augmentation
	// (for an item's views too, so once per view: skip the work for a
	// photo already seen), from the decoding goroutines: work that needs
	// the decoded pixels, such as the data doctor's fingerprints, then
	// costs no second decode. It must be safe for concurrent use and must
	// not modify p. Photos whose vectors all come from the cache are not
	// decoded, so it is not called for them.
	Decoded func(it Item, p *photo.RGB)

	// Mixed8, if set, makes the one pass through the backbone also keep
	// each photo's mixed8 activations, which fine-tuning reads: its
	// session then runs instead of Session. The features are as
	// Session's (Dim, Half and Discard must be unset).
	Mixed8 *Mixed8
}

// Mixed8 is where a one-pass extraction (Extractor.Mixed8) keeps the mixed8
// activations. Fine-tuning needs both each photo's features and its mixed8
// activations; one pass computes the layers up to mixed8 once instead of
// twice, and their decoding once.
type Mixed8 struct {
	// Session runs inception.Mixed8FeaturesModel: input
	// inception.InputName, outputs inception.OutputName and
	// inception.Mixed8Output, in that order.
	Session *onnxrt.MultiSession
	// Backbone identifies the activations in cache keys (not the
	// features' identity: the two vectors of a photo are two entries).
	Backbone string
	// Cache keeps the activations, as float16 (Cache.PutHalf), and only
	// there: an item needs a Hash.
	Cache *Cache
}

// Mixed8Key returns the cache key of an item's mixed8 activations in a
// one-pass extraction: the features' key with Mixed8.Backbone.
func (e *Extractor) Mixed8Key(it Item) Key {
	k := e.key(it)
	k.Backbone = e.Mixed8.Backbone
	return k
}

type decoded struct {
	index int
	pix   *photo.RGB
	feat  []float32 // from the cache
	err   error
}

// Extract computes the features of items. A photo that cannot be read or
// decoded is recorded in Result.Errs and skipped: it never stops the run.
// progress, if not nil, is called from Extract's goroutine as work
// finishes. Extract returns early with ctx.Err() when ctx is cancelled, and
// with an error when the backbone fails.
func (e *Extractor) Extract(ctx context.Context, items []Item, progress func(Progress)) (*Result, error) {
	return e.ExtractEach(ctx, items, progress, nil)
}

// ExtractEach is Extract handing the results over as they are ready, so
// that a caller can use the first photos' results while the others are
// extracted, without stopping the decoders between its chunks. ready, if
// not nil, is called from ExtractEach's goroutine each time the items
// before to are all finished, with the items [from, to) not handed over
// yet: their rows and errors in res are final. The calls come in order
// and cover every item once. An error from ready stops the extraction and
// is returned.
func (e *Extractor) ExtractEach(ctx context.Context, items []Item, progress func(Progress), ready func(res *Result, from, to int) error) (*Result, error) {
	if e.Cache != nil && e.Backbone == "" {
		return nil, errors.New("extract features: a cache needs a backbone identity")
	}
	if m := e.Mixed8; m != nil && (m.Session == nil || m.Cache == nil || m.Backbone == "" || e.Dim > 0 || e.Half || e.Discard) {
		return nil, errors.New("extract features: keeping the mixed8 activations needs their session, cache and identity, and the pooled features as the main output")
	}
	batch := e.BatchSize()
	workers := e.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	dim := e.Dim
	if dim <= 0 {
		dim = Dim
	}
	if e.Discard && e.Cache == nil {
		return nil, errors.New("extract features: keeping vectors only in the cache needs a cache")
	}
	res := &Result{Errs: make([]error, len(items)), dim: dim}
	if !e.Discard {
		res.Features = make([]float32, len(items)*dim)
	}
	start := time.Now()
	prog := Progress{Total: len(items)}
	report := func() {
		if progress != nil {
			prog.Elapsed = time.Since(start)
			progress(prog)
		}
	}

	next := make(chan int)
	out := make(chan decoded, 2*batch)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d := e.load(i, items[i])
				select {
				case out <- d:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range items {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(out)
	}()

	// finished marks the items done; handed is how many, from the first,
	// went to ready.
	var finished []bool
	handed := 0
	if ready != nil {
		finished = make([]bool, len(items))
	}
	finish := func(i int) {
		if finished != nil {
			finished[i] = true
		}
	}
	hand := func() error {
		if ready == nil {
			return nil
		}
		from := handed
		for handed < len(items) && finished[handed] {
			handed++
		}
		if handed == from {
			return nil
		}
		return ready(res, from, handed)
	}

	// Two batches take turns: while the backbone computes one, this
	// goroutine collects and converts the next, so that a GPU does not
	// wait for the CPU between batches, nor the decoders for the GPU.
	type flight struct {
		batch []decoded
		n     int // photos run: len(batch), or Batch when filled up
		input []float32
		acts  []float32 // mixed8 activations of a one-pass batch
		feats []float32
		err   error
		done  chan struct{}
	}
	var bufs [2]struct{ input, acts []float32 }
	turn := 0
	var inflight *flight
	defer func() {
		// The session must not be running when the caller closes it.
		if inflight != nil {
			<-inflight.done
		}
	}()
	pending := make([]decoded, 0, batch)
	// land waits for fl and records its vectors.
	land := func(fl *flight) error {
		<-fl.done
		if fl.err != nil {
			return fl.err
		}
		if err := ctx.Err(); err != nil {
			// Cancelled while it ran: nothing more is reported.
			return err
		}
		if len(fl.feats) != fl.n*dim {
			return fmt.Errorf("extract features: backbone returned %d values for %d photos", len(fl.feats), fl.n)
		}
		for k, d := range fl.batch {
			if e.Mixed8 != nil {
				// Fine-tuning reads them from the cache only: they must
				// reach it.
				row := fl.acts[k*inception.Mixed8Values : (k+1)*inception.Mixed8Values]
				if err := e.Mixed8.Cache.PutHalf(e.Mixed8Key(items[d.index]), row); err != nil {
					return fmt.Errorf("extract features: %s: %w", items[d.index].Path, err)
				}
			}
			finish(d.index)
			row := fl.feats[k*dim : (k+1)*dim]
			if d.feat != nil {
				// Only the activations were missing: the cached
				// features stay what they were.
				copy(res.Row(d.index), d.feat)
				continue
			}
			if !e.Discard {
				copy(res.Row(d.index), row)
			}
			if e.Cache != nil && items[d.index].Hash != ([32]byte{}) {
				var err error
				if e.Half {
					err = e.Cache.PutHalf(e.key(items[d.index]), row)
				} else {
					err = e.Cache.Put(e.key(items[d.index]), row)
				}
				// A full disk must not stop training, which then has
				// the features in memory: the cache only saves time.
				// Discarded vectors must reach the cache.
				if err != nil && e.Discard {
					return fmt.Errorf("extract features: %s: %w", items[d.index].Path, err)
				}
			}
		}
		prog.Done += len(fl.batch)
		report()
		return hand()
	}
	// run converts the pending photos, starts the backbone on them once
	// the batch before is computed, and records that batch meanwhile.
	run := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		buf := &bufs[turn]
		turn ^= 1
		fl := &flight{batch: pending, done: make(chan struct{})}
		pending = make([]decoded, 0, batch)
		in := buf.input[:0]
		for _, d := range fl.batch {
			in = d.pix.AppendFloat32(in, 1, 0)
		}
		n := len(fl.batch)
		if e.FixedBatch && n < batch {
			n = batch
			in = append(in, make([]float32, (batch-len(fl.batch))*inception.Size*inception.Size*3)...)
		}
		buf.input, fl.input, fl.n = in, in, n
		if e.Mixed8 != nil {
			if buf.acts == nil {
				buf.acts = make([]float32, batch*inception.Mixed8Values)
			}
			fl.acts = buf.acts[:n*inception.Mixed8Values]
		}
		prev := inflight
		if prev != nil {
			// One run at a time: a MultiSession is not for concurrent
			// use, and the device would only queue it.
			<-prev.done
		}
		inflight = fl
		go func() {
			defer close(fl.done)
			fl.feats, fl.err = e.infer(ctx, fl.input, fl.acts, fl.n, dim)
		}()
		if prev != nil {
			return land(prev)
		}
		return nil
	}
	// drain runs what is pending and records every batch.
	drain := func() error {
		if err := run(); err != nil {
			return err
		}
		if fl := inflight; fl != nil {
			inflight = nil
			return land(fl)
		}
		return nil
	}
	lastReport := time.Now()
	for d := range out {
		switch {
		case d.err != nil:
			res.Errs[d.index] = d.err
			prog.Done++
			prog.Failed++
			finish(d.index)
		case d.feat != nil && d.pix == nil:
			if !e.Discard {
				copy(res.Row(d.index), d.feat)
			}
			res.FromCache++
			prog.Done++
			prog.FromCache++
			finish(d.index)
		default:
			pending = append(pending, d)
			if len(pending) == batch {
				if err := run(); err != nil {
					return nil, err
				}
				lastReport = time.Now()
			}
			continue
		}
		if err := hand(); err != nil {
			return nil, err
		}
		if time.Since(lastReport) > 100*time.Millisecond {
			report()
			lastReport = time.Now()
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := drain(); err != nil {
		return nil, err
	}
	report()
	if err := hand(); err != nil {
		return nil, err
	}
	return res, nil
}

// infer runs the backbone on the n photos of input; with Mixed8 it also
// writes their activations into acts.
func (e *Extractor) infer(ctx context.Context, input, acts []float32, n, dim int) ([]float32, error) {
	if e.Mixed8 == nil {
		return e.Session.Run(ctx, input, int64(n), inception.Size, inception.Size, 3)
	}
	f := make([]float32, n*dim)
	err := e.Mixed8.Session.Run(ctx,
		[]onnxrt.Tensor{{Data: input, Shape: []int64{int64(n), inception.Size, inception.Size, 3}}},
		[]onnxrt.Tensor{{Data: f, Shape: []int64{int64(n), int64(dim)}}, {Data: acts, Shape: []int64{int64(n), inception.Mixed8Values}}})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// BatchSize returns the number of photos per inference: Batch, or its
// default.
func (e *Extractor) BatchSize() int {
	if e.Batch > 0 {
		return e.Batch
	}
	return 8
}

// Key returns the cache key of an item's vector.
func (e *Extractor) Key(it Item) Key { return e.key(it) }

func (e *Extractor) key(it Item) Key {
	k := Key{Backbone: e.Backbone, Photo: it.Hash, Decoder: e.Limits.JPEG.Used()}
	if it.View > 0 {
		k.View = fmt.Sprintf("%s-%d", e.AugmentID, it.View)
	}
	return k
}

func (e *Extractor) load(i int, it Item) decoded {
	if it.Hash == ([32]byte{}) && (e.Discard || e.Mixed8 != nil) {
		return decoded{index: i, err: fmt.Errorf("extract features: %s: keeping vectors only in the cache needs the photo's hash", it.Path)}
	}
	if e.Cache != nil && it.Hash != ([32]byte{}) {
		dim := e.Dim
		if dim <= 0 {
			dim = Dim
		}
		var f []float32
		var ok bool
		if e.Half {
			f, ok = e.Cache.GetHalf(e.key(it), nil)
		} else {
			f, ok = e.Cache.Get(e.key(it))
		}
		if ok && len(f) == dim {
			if e.Discard {
				// Read (and so verified) but not kept.
				f = []float32{}
			}
			if e.Mixed8 == nil || e.hasMixed8(it) {
				return decoded{index: i, feat: f}
			}
			// The features are known, the activations not: the photo
			// goes through the backbone, its features kept.
			d := e.decode(i, it)
			if d.err == nil {
				d.feat = f
			}
			return d
		}
	}
	return e.decode(i, it)
}

// hasMixed8 reports whether the cache holds a sound entry of the item's
// mixed8 activations.
func (e *Extractor) hasMixed8(it Item) bool {
	v, ok := e.Mixed8.Cache.GetHalf(e.Mixed8Key(it), nil)
	return ok && len(v) == inception.Mixed8Values
}

// decode reads and decodes the item's photo, making its view.
func (e *Extractor) decode(i int, it Item) decoded {
	p, err := photo.LoadFile(it.Path, inception.Size, e.Limits)
	if err != nil {
		return decoded{index: i, err: err}
	}
	if e.Decoded != nil {
		e.Decoded(it, p)
	}
	if it.View > 0 {
		if e.Augment == nil {
			return decoded{index: i, err: fmt.Errorf("extract features: %s: view %d asked for without augmentation", it.Path, it.View)}
		}
		p = e.Augment(p, it.View, seed(it.Hash, it.View))
	}
	return decoded{index: i, pix: p}
}

// seed derives a per-photo, per-view random seed from the content hash.
func seed(h [32]byte, view int) uint64 {
	var s uint64
	for i := range 8 {
		s = s<<8 | uint64(h[i])
	}
	return s ^ uint64(view)*0x9E3779B97F4A7C15
}
