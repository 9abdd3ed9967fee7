package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/features"
)

func runClassify(ctx context.Context, e *env, args []string) error {
	fs := e.flags("classify", "--model MODEL [options] FILE_OR_DIR...")
	var ef engineFlags
	ef.add(fs, false)
	modelPath := fs.String("model", "", "model file")
	format := fs.String("format", "table", "output format: table, csv or json")
	sortInto := fs.String("sort-into", "", "copy (never move) each photo into OUT/<label>/")
	minConf := fs.Float64("min-confidence", -1, "photos below this confidence are answered \"not sure\" and sorted into OUT/_unsure/ (default: the model's threshold; 0: answer every photo)")
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := need(fs, e, "model"); err != nil {
		return err
	}
	if len(inputs) == 0 {
		fmt.Fprintln(e.stderr, "clasifica classify: name photos or folders to classify")
		fs.Usage()
		return errUsage
	}
	if *minConf > 1 || (*minConf < 0 && *minConf != -1) {
		return fmt.Errorf("--min-confidence %v: want 0 (off) to 1", *minConf)
	}
	if *format != "table" && *format != "csv" && *format != "json" {
		return fmt.Errorf("--format %q: want table, csv or json", *format)
	}
	paths, problems, err := app.ListPhotos(ctx, inputs)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "skipped: %s\n", p)
	}
	if len(paths) == 0 {
		return fmt.Errorf("no photos found in %v", inputs)
	}
	c, err := e.openClassifier(ctx, *modelPath, &ef)
	if err != nil {
		return err
	}
	defer c.Engine.Close()
	if *minConf >= 0 {
		c.MinConfidence = *minConf
	}
	bar := newProgressBar(e.stderr)
	preds, err := c.Classify(ctx, paths, func(p features.Progress) {
		if p.Total > 1 {
			bar.update("classifying", p.Done, p.Total, p.Rate(), "images/s", p.Remaining(), p.Done == p.Total)
		}
	})
	if err != nil {
		return err
	}
	failed := 0
	for _, p := range preds {
		if p.Err != nil {
			failed++
			fmt.Fprintf(e.stderr, "skipped: %v\n", p.Err)
		}
	}
	if err := writePredictions(e.stdout, *format, preds); err != nil {
		return err
	}
	if *sortInto != "" {
		sorted, err := app.SortInto(ctx, preds, *sortInto, c.MinConfidence)
		copied := 0
		for _, s := range sorted {
			if s.To != "" {
				copied++
			}
		}
		fmt.Fprintf(e.stderr, "Copied %d photos into %s.\n", copied, *sortInto)
		if err != nil {
			return err
		}
	}
	if failed == len(preds) {
		return fmt.Errorf("none of the %d photos could be read", failed)
	}
	return nil
}

// prediction is one photo's line in classify's JSON output.
type prediction struct {
	Path        string       `json:"path"`
	Label       string       `json:"label,omitempty"`
	Probability float64      `json:"probability,omitempty"`
	Top         []app.Scored `json:"top,omitempty"`
	// Unsure: the model is less confident than its threshold; Label is
	// its best guess.
	Unsure bool   `json:"unsure,omitempty"`
	Error  string `json:"error,omitempty"`
}

// writePredictions writes preds as a table, CSV or JSON.
func writePredictions(w io.Writer, format string, preds []app.Prediction) error {
	switch format {
	case "csv":
		return app.WriteCSV(w, preds)
	case "json":
		list := make([]prediction, len(preds))
		for i, p := range preds {
			list[i] = prediction{Path: p.Path, Label: p.Label(), Probability: p.Confidence(), Top: p.Top[:min(3, len(p.Top))], Unsure: p.Unsure}
			if p.Err != nil {
				list[i].Error = p.Err.Error()
			}
		}
		return writeJSON(w, list)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PHOTO\tLABEL\tCONFIDENCE\tRUNNER-UP")
	for _, p := range preds {
		if p.Err != nil {
			fmt.Fprintf(tw, "%s\t(unreadable)\t\t\n", p.Path)
			continue
		}
		second := ""
		if len(p.Top) > 1 {
			second = fmt.Sprintf("%s %.1f%%", p.Top[1].Label, 100*p.Top[1].Probability)
		}
		label := p.Label()
		if p.Unsure {
			label = "not sure (" + label + "?)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f%%\t%s\n", p.Path, label, 100*p.Confidence(), second)
	}
	return tw.Flush()
}
