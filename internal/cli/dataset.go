package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/clasifica/clasifica/ml/dataset"
)

func runDataset(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "inspect" {
		fmt.Fprintln(e.stderr, "Usage: clasifica dataset inspect DIR [--format json] [--val 0.2] [--test 0] [--granularity breed|species]")
		return errUsage
	}
	fs := e.flags("dataset inspect", "DIR [options]")
	opt := dataset.DefaultOptions()
	format := fs.String("format", "table", "output format: table or json")
	gran := fs.String("granularity", "breed", "Oxford-IIIT Pet classes: breed or species")
	fs.Float64Var(&opt.Validation, "val", opt.Validation, "share of photos held out for validation")
	fs.Float64Var(&opt.Test, "test", opt.Test, "share of photos held out for testing")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	if opt.Granularity, err = parseGranularity(*gran); err != nil {
		return err
	}
	bar := newProgressBar(e.stderr)
	opt.Progress = func(done, total int) { bar.update("reading photos", done, total, 0, "", 0, done == total) }
	d, err := dataset.Scan(ctx, pos[0], opt)
	if err != nil {
		return err
	}
	s := d.Summary()
	if *format == "json" {
		return writeJSON(e.stdout, s)
	}
	fmt.Fprintf(e.stdout, "%s\nLayout: %s — %s\n\n", s.Root, s.Layout, s.LayoutNote)
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
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
		fmt.Fprintln(e.stdout, "\nSkipped files:")
		for _, p := range s.Problems {
			fmt.Fprintf(e.stdout, "  %d × %s\n", p.Count, p.Description)
			for _, ex := range p.Examples {
				fmt.Fprintf(e.stdout, "      %s\n", ex)
			}
		}
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintln(e.stdout, "\nWarnings:")
		for _, w := range s.Warnings {
			fmt.Fprintf(e.stdout, "  - %s\n", w.Message)
		}
	}
	return nil
}
