package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/ml/dataset"
)

// datasetUsage lists the dataset subcommands.
const datasetUsage = `Usage:
  clasifica dataset inspect DIR [--check] [--format json] [--val 0.2] [--test 0] [--granularity breed|species]
  clasifica dataset relabel DIR PHOTO KIND [--granularity breed|species]
  clasifica dataset leave-out DIR PHOTO
  clasifica dataset forget DIR PHOTO
  clasifica dataset decisions DIR [--format json] [--granularity breed|species]
  clasifica dataset review DIR [--format json] [--backbone B] [--val 0.2] [--test 0] [--granularity breed|species]`

func runDataset(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, datasetUsage)
		return errUsage
	}
	switch args[0] {
	case "inspect":
		return runInspect(ctx, e, args[1:])
	case "relabel", "leave-out", "forget", "decisions":
		return runDecide(ctx, e, args[0], args[1:])
	case "review":
		return runReview(ctx, e, args[1:])
	}
	fmt.Fprintln(e.stderr, datasetUsage)
	return errUsage
}

func runInspect(ctx context.Context, e *env, args []string) error {
	fs := e.flags("dataset inspect", "DIR [options]")
	ff := addFolderFlags(fs, "share of photos held out for validation")
	check := fs.Bool("check", false, "also decode every photo in full, to find truncated and corrupt files (the scan reads headers only)")
	dir, err := ff.folder(fs, args)
	if err != nil {
		return err
	}
	bar := newProgressBar(e.stderr)
	d, err := e.scanFolder(ctx, dir, ff.opt, bar)
	if err != nil {
		return err
	}
	if *check {
		d, err = app.CheckPhotos(ctx, d, func(p progress.Progress) {
			bar.update("checking photos", p.Done, p.Total, p.Rate(), "photos/s", p.Remaining(), p.Done == p.Total)
		})
		if err != nil {
			return err
		}
	}
	s := d.Summary()
	if *ff.format == "json" {
		return writeJSON(e.stdout, s)
	}
	return writeSummary(e.stdout, s)
}

// folderFlags are the flags of the commands that report on a folder's
// photos: the output format, the Oxford-IIIT Pet granularity and the split
// shares.
type folderFlags struct {
	opt          dataset.Options
	format, gran *string
}

// addFolderFlags defines the folder flags on fs; valUsage says what the
// validation share means to the command.
func addFolderFlags(fs *flag.FlagSet, valUsage string) *folderFlags {
	f := &folderFlags{opt: dataset.DefaultOptions()}
	f.format = fs.String("format", "table", "output format: table or json")
	f.gran = fs.String("granularity", "breed", "Oxford-IIIT Pet classes: breed or species")
	fs.Float64Var(&f.opt.Validation, "val", f.opt.Validation, valUsage)
	fs.Float64Var(&f.opt.Test, "test", f.opt.Test, "share of photos held out for testing")
	return f
}

// folder parses args, which must name one folder, and the granularity.
func (f *folderFlags) folder(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		fs.Usage()
		return "", errUsage
	}
	if f.opt.Granularity, err = parseGranularity(*f.gran); err != nil {
		return "", err
	}
	return pos[0], nil
}

// scanFolder scans dir with the user's decisions applied, showing the scan
// on bar.
func (e *env) scanFolder(ctx context.Context, dir string, opt dataset.Options, bar *progressBar) (*dataset.Dataset, error) {
	opt.Progress = func(done, total int) { bar.update("reading photos", done, total, 0, "", 0, done == total) }
	return e.app.Scan(ctx, dir, opt)
}

// writeSummary prints what a scan found: the layout, each class's photos
// by split, the skipped files and the warnings.
func writeSummary(w io.Writer, s dataset.Summary) error {
	fmt.Fprintf(w, "%s\nLayout: %s — %s\n\n", s.Root, s.Layout, s.LayoutNote)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "CLASS\tTRAIN\tVALIDATION\tTEST\tTOTAL\t")
	for _, c := range s.Classes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", c.Name, c.Counts[dataset.Train], c.Counts[dataset.Validation], c.Counts[dataset.Test], c.Counts.Total())
	}
	t := s.Totals
	fmt.Fprintf(tw, "all %d classes\t%d\t%d\t%d\t%d\t\n", len(s.Classes), t[dataset.Train], t[dataset.Validation], t[dataset.Test], t.Total())
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Problems) > 0 {
		fmt.Fprintln(w, "\nSkipped files:")
		for _, p := range s.Problems {
			fmt.Fprintf(w, "  %d × %s\n", p.Count, p.Description)
			for _, ex := range p.Examples {
				fmt.Fprintf(w, "      %s\n", ex)
			}
		}
	}
	if c := s.Decisions; c.Total > 0 {
		if n := c.Total - c.NearCopies; n > 0 {
			fmt.Fprintf(w, "\nYour decisions: %d in effect (%d relabelled, %d left out, %d in a chosen split); `clasifica dataset decisions %s` lists them.\n",
				n, c.Relabelled, c.LeftOut, c.ForcedSplit, s.Root)
		}
		if c.NearCopies > 0 {
			fmt.Fprintf(w, "\n%d training photos left out: a near-copy of each is a validation or test photo, which they would make look easier.\n", c.NearCopies)
		}
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings:")
		for _, warn := range s.Warnings {
			fmt.Fprintf(w, "  - %s\n", warn.Message)
		}
	}
	return nil
}
