package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/doctor"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/photo"
	"github.com/clasifica/clasifica/ml/probes"
)

// CheckLabelsRequest describes a label check (the data doctor).
type CheckLabelsRequest struct {
	// Data is the photo folder; Dataset, if set, is its scan and Data is
	// ignored (a scan made with other DataOptions is read again). A scan
	// made here applies the user's decisions (App.Scan).
	Data    string
	Dataset *dataset.Dataset
	// DataOptions control the scan and the split the near-copies are
	// reported against.
	DataOptions dataset.Options
	// Options tune the doctor (folds, seed); their Progress and Probes
	// (the shipped probe photos) are set by CheckLabels.
	Options doctor.Options
}

// CheckStage names a step of a label check.
type CheckStage string

// The steps of a label check, in order.
const (
	CheckScanning     CheckStage = "scanning"     // reading the folder
	CheckExtracting   CheckStage = "extracting"   // features of photos not yet in the cache
	CheckFingerprints CheckStage = "fingerprints" // perceptual hashes of photos not yet fingerprinted
	CheckSuspects     CheckStage = "suspects"     // out-of-fold training and confident learning
	CheckNearCopies   CheckStage = "near-copies"
	CheckStrangers    CheckStage = "strangers"
)

// CheckProgress reports how far a label check has come. Progress
// callbacks come from the check's goroutine, in order.
type CheckProgress struct {
	Stage CheckStage
	// Progress is the stage's: its count, and the rate and time left that
	// the counted stages (scanning, extracting, fingerprints) have.
	progress.Progress
	// Dataset is the scan, set once, with the first progress after it.
	Dataset *dataset.Dataset
}

// CheckLabels finds the photos of a folder that are probably in the wrong
// folder, the near-copies and the strangers (see package doctor). It
// extracts with eng the features not already cached and fingerprints the
// photos not already fingerprinted (kept in the data folder), with
// progress; cancelling ctx stops it and keeps what was done. Photos the
// user said are right are not suspected again. The folder is only read.
func (a *App) CheckLabels(ctx context.Context, eng *Engine, req CheckLabelsRequest, report func(CheckProgress)) (doctor.Report, error) {
	if report == nil {
		report = func(CheckProgress) {}
	}
	d, _, err := a.prepare(ctx, req.Dataset, req.Data, req.DataOptions, func(p progress.Progress) { report(CheckProgress{Stage: CheckScanning, Progress: p}) })
	if err != nil {
		return doctor.Report{}, err
	}
	store, err := a.LoadDecisions(d.Root)
	if err != nil {
		return doctor.Report{}, err
	}

	items := make([]features.Item, len(d.Items))
	for i, it := range d.Items {
		items[i] = features.Item{Path: it.Path, Hash: it.Hash}
	}
	// The probe photos go through the backbone with the folder's, to
	// judge whether it can tell strangers (doctor.Profile.Judge).
	probeDir, err := os.MkdirTemp("", "clasifica-probes-")
	if err != nil {
		return doctor.Report{}, fmt.Errorf("probe photos: %w", err)
	}
	defer os.RemoveAll(probeDir)
	probePhotos, probeItems, err := probes.Items(probeDir)
	if err != nil {
		return doctor.Report{}, err
	}
	items = append(items, probeItems...)
	prints, err := a.newPrintCollector()
	if err != nil {
		return doctor.Report{}, err
	}
	first := true
	defer prints.save() // a cancelled check keeps the prints made; an error only costs a decode next time
	res, err := prints.hook(eng.Extractor(true)).Extract(ctx, items, func(p features.Progress) {
		cp := CheckProgress{Stage: CheckExtracting, Progress: p}
		if first {
			cp.Dataset, first = d, false
		}
		report(cp)
	})
	if err != nil {
		return doctor.Report{}, err
	}
	clock := progress.Start()
	printed, err := a.fingerprints(ctx, d.Items, prints, func(done, total int) {
		report(CheckProgress{Stage: CheckFingerprints, Progress: clock.At(done, total)})
	})
	if err != nil {
		return doctor.Report{}, err
	}

	opt := req.Options
	opt.Probes = nil
	for i, p := range probePhotos {
		if row := len(d.Items) + i; res.Errs[row] == nil {
			opt.Probes = append(opt.Probes, doctor.Probe{Name: p.Name, Features: res.Row(row)})
		}
	}
	// Photos that could not be decoded are the scan's problems, not the
	// doctor's: they are left out here as training leaves them out.
	kept := *d
	feats, keptPrints := res.Features[:len(d.Items)*features.Dim], printed
	if slices.ContainsFunc(res.Errs[:len(d.Items)], func(err error) bool { return err != nil }) {
		// Copied only then: 10,000 photos' features are 82 MB.
		kept.Items, feats, keptPrints = nil, nil, nil
		for i, it := range d.Items {
			if res.Errs[i] != nil {
				continue
			}
			kept.Items = append(kept.Items, it)
			feats = append(feats, res.Row(i)...)
			keptPrints = append(keptPrints, printed[i])
		}
	}
	in, err := doctor.FromDataset(&kept, feats, features.Dim, keptPrints)
	if err != nil {
		return doctor.Report{}, err
	}
	opt.Progress = func(stage string, done, total int) {
		report(CheckProgress{Stage: CheckStage(stage), Progress: progress.Progress{Done: done, Total: total}})
	}
	rep, err := doctor.Check(ctx, in, opt)
	if err != nil {
		return doctor.Report{}, err
	}
	hashes := map[string][32]byte{}
	for _, it := range kept.Items {
		hashes[it.Path] = it.Hash
	}
	suspects := rep.Mislabeled[:0]
	for _, s := range rep.Mislabeled {
		if !store.Right(hashes[s.Path]) {
			suspects = append(suspects, s)
		}
	}
	rep.Mislabeled = suspects
	return rep, nil
}

// fingerprints returns the perceptual fingerprints of the photos items, in
// order: those the extraction made (c), those kept in the data folder,
// and, decoded now (in parallel), those of photos that neither has (whose
// features came from the cache before prints were kept). All are kept. A
// photo that cannot be decoded gets a zero print.
func (a *App) fingerprints(ctx context.Context, items []dataset.Item, c *printCollector, progress func(done, total int)) ([]doctor.Print, error) {
	c.keepMade()
	store := c.kept
	out := make([]doctor.Print, len(items))
	var todo []int
	for i, it := range items {
		if p, ok := store.Get(it.Hash); ok {
			out[i] = p
		} else {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return out, store.Save()
	}
	next := make(chan int)
	done := make(chan struct{}, len(todo))
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if p, err := photo.LoadFile(items[i].Path, inception.Size, photo.Limits{}); err == nil {
					out[i] = doctor.Fingerprint(p)
				}
				done <- struct{}{}
			}
		}()
	}
	go func() {
		defer close(next)
		for _, i := range todo {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	n := 0
	progress(0, len(todo))
	for range done {
		n++
		if n%16 == 0 || n == len(todo) {
			progress(n, len(todo))
		}
	}
	// What was computed is kept even when the check was cancelled.
	for _, i := range todo {
		if !out[i].IsZero() {
			store.Put(items[i].Hash, out[i])
		}
	}
	if err := store.Save(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Fingerprints is the file of the photos' perceptual fingerprints (see
// doctor.Prints): in the data folder, since they do not depend on the
// backbone and clearing the feature cache must not lose them.
func (d Dirs) Fingerprints() string { return filepath.Join(d.Data, "fingerprints.bin") }
