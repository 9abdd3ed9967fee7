package app

import (
	"context"
	"io"

	"github.com/clasifica/clasifica/internal/atomicfile"
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
// list is the list training would skip. progress, if not nil, gets the
// photos checked so far.
func CheckPhotos(ctx context.Context, d *dataset.Dataset, progress func(done, total int)) (*dataset.Dataset, error) {
	return dataset.Check(ctx, d, dataset.CheckOptions{Progress: progress})
}

// NeedsRescan reports whether d, scanned earlier, must be read again before
// training with opt: the split shares and the pets granularity decide what
// the scan produced, and only the scan applies them.
func NeedsRescan(d *dataset.Dataset, opt dataset.Options) bool {
	return d == nil || d.Options.Validation != opt.Validation || d.Options.Test != opt.Test ||
		d.Options.Granularity != opt.Granularity
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
