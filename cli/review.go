package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/doctor"
)

// runReview prints the data doctor's three lists: photos probably in the
// wrong folder, near-copies and strangers.
func runReview(ctx context.Context, e *env, args []string) error {
	fs := e.flags("dataset review", "DIR [options]")
	ff := addFolderFlags(fs, "share of photos held out for validation (near-copies are reported with their splits)")
	var ef engineFlags
	ef.add(fs, true)
	dir, err := ff.folder(fs, args)
	if err != nil {
		return err
	}
	// Mistakes in the command line are said before the image model loads
	// (seconds), not after the check has run.
	if *ff.format != "table" && *ff.format != "json" {
		return fmt.Errorf("unknown --format %q: use table or json", *ff.format)
	}
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("no folder %s to review: %w", dir, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is a file: review needs the folder of photos", dir)
	}
	eng, err := e.openEngine(ctx, &ef, app.CountPhotos(dir, 1<<20))
	if err != nil {
		return err
	}
	defer eng.Close()
	bar := newProgressBar(e.stderr)
	rep, err := e.app.CheckLabels(ctx, eng, app.CheckLabelsRequest{Data: dir, DataOptions: ff.opt}, func(p app.CheckProgress) {
		switch p.Stage {
		case app.CheckScanning:
			bar.update("reading photos", p.Done, p.Total, 0, "", 0, p.Done == p.Total)
		case app.CheckExtracting:
			// Only a run that computes features deserves a bar; one
			// served from the cache finishes at once.
			if p.Done-p.FromCache > 0 || p.Done == p.Total && p.FromCache < p.Total {
				bar.update("extracting features", p.Done, p.Total, p.Rate(), "photos/s", p.Remaining(), p.Done == p.Total)
			}
		case app.CheckFingerprints:
			bar.update("fingerprinting photos", p.Done, p.Total, p.Rate(), "photos/s", p.Remaining(), p.Done == p.Total)
		}
	})
	if err != nil {
		return err
	}
	if *ff.format == "json" {
		return writeJSON(e.stdout, reviewJSON(rep))
	}
	return writeReview(e.stdout, rep)
}

// reviewOut is the JSON shape of `dataset review`: the keys issue 17 names
// (path, label, suggested, score; paths, similarity, splits), with the
// content hashes and labels added.
type reviewOut struct {
	Mislabeled      []suspectOut  `json:"mislabeled"`
	NearDuplicates  []nearOut     `json:"near_duplicates"`
	Outliers        []strangerOut `json:"outliers"`
	StrangersJudged bool          `json:"strangers_judged"`
	StrangersReason string        `json:"strangers_reason,omitempty"`
	Warnings        []string      `json:"warnings"`
}

type suspectOut struct {
	Path      string  `json:"path"`
	SHA256    string  `json:"sha256"`
	Label     string  `json:"label"`
	Suggested string  `json:"suggested"`
	Score     float64 `json:"score"`
}

type nearOut struct {
	Paths      [2]string `json:"paths"`
	SHA256     [2]string `json:"sha256"`
	Similarity float64   `json:"similarity"`
	Splits     [2]string `json:"splits"`
	Labels     [2]string `json:"labels"`
	// CrossSplit: the pair straddles splits (a training photo's copy in
	// validation or test makes those results too good); Contradiction:
	// the copies carry different labels.
	CrossSplit    bool `json:"cross_split"`
	Contradiction bool `json:"contradiction"`
}

type strangerOut struct {
	Path   string  `json:"path"`
	SHA256 string  `json:"sha256"`
	Label  string  `json:"label"`
	Score  float64 `json:"score"`
}

func reviewJSON(r doctor.Report) reviewOut {
	out := reviewOut{Mislabeled: []suspectOut{}, NearDuplicates: []nearOut{}, Outliers: []strangerOut{},
		StrangersJudged: r.StrangersJudged, StrangersReason: r.StrangersReason, Warnings: r.Warnings}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	for _, s := range r.Mislabeled {
		out.Mislabeled = append(out.Mislabeled, suspectOut{s.Path, s.SHA256, s.Label, s.Suggested, round3(s.Score)})
	}
	for _, c := range r.NearDuplicates {
		out.NearDuplicates = append(out.NearDuplicates, nearOut{c.Paths, c.SHA256, round3(c.Similarity), c.Splits, c.Labels, c.CrossSplit(), c.Contradiction()})
	}
	for _, s := range r.Outliers {
		out.Outliers = append(out.Outliers, strangerOut{s.Path, s.SHA256, s.Label, round3(s.Score)})
	}
	return out
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// writeReview prints the three lists as tables, most certain first.
func writeReview(w io.Writer, r doctor.Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, m := range r.Warnings {
		fmt.Fprintf(tw, "Warning: %s\n", m)
	}
	fmt.Fprintf(tw, "\nProbably in the wrong folder: %d\n", len(r.Mislabeled))
	if len(r.Mislabeled) > 0 {
		fmt.Fprintln(tw, "  SURE\tIN\tPROBABLY\tPHOTO")
		for _, s := range r.Mislabeled {
			fmt.Fprintf(tw, "  %.0f%%\t%s\t%s\t%s\n", 100*s.Score, s.Label, s.Suggested, s.Path)
		}
	}
	fmt.Fprintf(tw, "\nNear-copies: %d pairs\n", len(r.NearDuplicates))
	if len(r.NearDuplicates) > 0 {
		fmt.Fprintln(tw, "  ALIKE\tSPLITS\tNOTE\tPHOTOS")
		for _, c := range r.NearDuplicates {
			note := ""
			switch {
			case c.Contradiction():
				note = fmt.Sprintf("labelled %s and %s", c.Labels[0], c.Labels[1])
			case c.CrossSplit():
				note = "inflates " + heldOut(c.Splits) + " results"
			}
			fmt.Fprintf(tw, "  %.0f%%\t%s/%s\t%s\t%s  %s\n", 100*c.Similarity, c.Splits[0], c.Splits[1], note, c.Paths[0], filepath.Base(c.Paths[1]))
		}
	}
	if !r.StrangersJudged {
		fmt.Fprintf(tw, "\nStrangers: not judged. %s\n", r.StrangersReason)
	} else {
		fmt.Fprintf(tw, "\nStrangers (unlike every class): %d\n", len(r.Outliers))
		if len(r.Outliers) > 0 {
			fmt.Fprintln(tw, "  STRANGE\tIN\tPHOTO")
			for _, s := range r.Outliers {
				fmt.Fprintf(tw, "  %.0f%%\t%s\t%s\n", 100*s.Score, s.Label, s.Path)
			}
		}
	}
	return tw.Flush()
}

// heldOut names the held-out split of a pair ("test" before
// "validation").
func heldOut(s [2]string) string {
	for _, want := range []string{"test", "validation"} {
		if s[0] == want || s[1] == want {
			return want
		}
	}
	return s[1]
}
