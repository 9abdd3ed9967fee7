package app

import (
	"context"
	"io"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/model"
)

// ScanFolder reads a photo folder: the classes and photos it holds, the
// split, and every file that cannot be used and why (from each file's
// content and header; CheckPhotos decodes them in full).
func ScanFolder(ctx context.Context, dir string, opt dataset.Options) (*dataset.Dataset, error) {
	return dataset.Scan(ctx, dir, opt)
}

// CheckPhotos decodes every photo of d in full, as training will, and
// returns d without those that fail, which join its problems. The desktop
// app runs it in the background right after a scan, so that the problem
// list is the list training would skip. report, if not nil, gets the
// photos checked so far, with the rate and time left.
func CheckPhotos(ctx context.Context, d *dataset.Dataset, report func(progress.Progress)) (*dataset.Dataset, error) {
	var opt dataset.CheckOptions
	if report != nil {
		clock := progress.Start()
		opt.Progress = func(done, total int) { report(clock.At(done, total)) }
	}
	return dataset.Check(ctx, d, opt)
}

// NeedsRescan reports whether d, scanned earlier, must be read again before
// training with opt: when the pets granularity changes the classes, or d
// did not come from a scan. Other split shares do not need the folder:
// Resplit divides d again in memory.
func NeedsRescan(d *dataset.Dataset, opt dataset.Options) bool {
	return d == nil || d.Options.Granularity != opt.Granularity || !d.CanResplit()
}

// Resplit returns d divided with opt's validation and test shares,
// exactly as a new scan with them would divide it but without reading a
// file, and keeping what d knows beyond a scan (the full-decode check's
// findings, fixes made since): d itself when the shares are d's. Call it
// when NeedsRescan(d, opt) is false.
func Resplit(d *dataset.Dataset, opt dataset.Options) (*dataset.Dataset, error) {
	if d.Options.Validation == opt.Validation && d.Options.Test == opt.Test {
		return d, nil
	}
	return d.Resplit(opt.Validation, opt.Test)
}

// OpenModel reads a model file.
func OpenModel(path string) (*model.Model, error) {
	return model.ReadFile(path)
}

// WriteCSVFile writes predictions as CSV (see WriteCSV) to path,
// atomically: a failed export leaves an earlier file as it was.
func WriteCSVFile(path string, preds []Prediction) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return WriteCSV(w, preds) })
}

// prepare returns the dataset a job works on: d divided again at opt's
// shares without reading a file (Resplit), or the folder scanned afresh
// when there is no scan yet or d was made with another granularity
// (NeedsRescan), counting the photos as the user decided (as recorded
// now) unless opt carries decisions of its own. scanning hears the scan's progress;
// changed reports that the dataset differs from d.
func (a *App) prepare(ctx context.Context, d *dataset.Dataset, dir string, opt dataset.Options, scanning func(progress.Progress)) (out *dataset.Dataset, changed bool, err error) {
	if d != nil && !NeedsRescan(d, opt) {
		r, err := Resplit(d, opt)
		return r, err == nil && r != d, err
	}
	if d != nil {
		dir = d.Root
	}
	clock := progress.Start()
	opt.Progress = func(done, total int) { scanning(clock.At(done, total)) }
	// Decisions app read for an earlier scan (kept in that scan's
	// Options, which a caller may hand back) are stale: read them again.
	if _, earlier := opt.Decisions.(*scanDecisions); opt.Decisions == nil || earlier {
		if opt, err = a.WithDecisions(dir, opt); err != nil {
			return nil, false, err
		}
	}
	if out, err = ScanFolder(ctx, dir, opt); err != nil {
		return nil, false, err
	}
	return out, true, nil
}
