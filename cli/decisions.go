package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/decisions"
)

// decisionsReport is what `dataset decisions --format json` prints.
type decisionsReport struct {
	// Store is the file that holds the decisions.
	Store     string             `json:"store"`
	Decisions []app.DecisionView `json:"decisions"`
}

// runDecide runs the subcommands that record, undo and list decisions:
// relabel, leave-out, forget and decisions. Each scans the folder first
// (with the decisions applied), to know the photo's folder label and the
// classes.
func runDecide(ctx context.Context, e *env, verb string, args []string) error {
	want, usage := 2, "DIR PHOTO"
	switch verb {
	case "relabel":
		want, usage = 3, "DIR PHOTO KIND"
	case "decisions":
		want, usage = 1, "DIR"
	}
	fs := e.flags("dataset "+verb, usage+" [options]")
	gran := fs.String("granularity", "breed", "Oxford-IIIT Pet classes: breed or species (an override belongs to one of them)")
	format := "table"
	if verb == "decisions" {
		fs.StringVar(&format, "format", "table", "output format: table or json")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != want {
		fs.Usage()
		return errUsage
	}
	opt := dataset.DefaultOptions()
	if opt.Granularity, err = parseGranularity(*gran); err != nil {
		return err
	}
	d, err := e.scanFolder(ctx, pos[0], opt, newProgressBar(e.stderr))
	if err != nil {
		return err
	}
	switch verb {
	case "decisions":
		file, views, err := e.app.Decisions(d)
		if err != nil {
			return err
		}
		if format == "json" {
			return writeJSON(e.stdout, decisionsReport{Store: file, Decisions: views})
		}
		return writeDecisions(e.stdout, d.Root, file, views)
	case "forget":
		return forget(e, d, pos[1])
	}
	p, err := app.FindPhoto(d, pos[1])
	if err != nil {
		return err
	}
	undo := fmt.Sprintf("undo with `clasifica dataset forget %s %s`", d.Root, p.Path)
	switch verb {
	case "relabel":
		kind := pos[2]
		isNew, file, err := e.app.Relabel(d, p, kind)
		if err != nil {
			return err
		}
		if kind == p.Folder {
			fmt.Fprintf(e.stdout, "%s counts as %s again, as its folder says (kept in %s).\n", p.Path, kind, file)
			return nil
		}
		fmt.Fprintf(e.stdout, "%s now counts as %s (its folder says %s); the file was not moved.\n", p.Path, kind, p.Folder)
		if isNew {
			fmt.Fprintf(e.stdout, "%s is a new class: the folder had no photos of it. A kind needs %d photos or more before the model recognises it reliably.\n", kind, dataset.NewKindPhotos)
		}
		fmt.Fprintf(e.stdout, "Kept in %s; %s.\n", file, undo)
	case "leave-out":
		file, err := e.app.LeaveOut(d, p, true)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s is left out of training, validation and test; the file stays where it is.\nKept in %s; %s.\n", p.Path, file, undo)
	}
	return nil
}

// forget drops every decision about a photo, named by its path or, for a
// photo no longer in the folder, by the SHA-256 `dataset decisions` shows.
func forget(e *env, d *dataset.Dataset, photo string) error {
	var h [32]byte
	name := photo
	if p, err := app.FindPhoto(d, photo); err == nil {
		h, name = p.Hash, p.Path
	} else if hh, herr := decisions.ParseHash(photo); herr == nil {
		if _, serr := os.Stat(photo); serr != nil {
			h = hh
		} else {
			return err
		}
	} else {
		return err
	}
	had, file, err := e.app.Forget(d.Root, h)
	if err != nil {
		return err
	}
	if !had {
		fmt.Fprintf(e.stdout, "There were no decisions about %s.\n", name)
		return nil
	}
	fmt.Fprintf(e.stdout, "Forgot every decision about %s: it counts as its folder says again (%s).\n", name, file)
	return nil
}

// writeDecisions prints the decisions as a table.
func writeDecisions(w io.Writer, root, file string, views []app.DecisionView) error {
	if len(views) == 0 {
		fmt.Fprintf(w, "No decisions about the photos of %s.\n", root)
		return nil
	}
	fmt.Fprintf(w, "%d decisions about the photos of %s, kept in %s:\n\n", len(views), root, file)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PHOTO\tFOLDER SAYS\tDECISION")
	for _, v := range views {
		label := v.Label
		if label == "" {
			label = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Path, label, v.Describe())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nUndo one with `clasifica dataset forget %s PHOTO`.\n", root)
	return nil
}
