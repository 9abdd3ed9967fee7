package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/explain"
	"github.com/clasifica/clasifica/ml/features"
)

func runClassify(ctx context.Context, e *env, args []string) error {
	fs := e.flags("classify", "--model MODEL [options] FILE_OR_DIR...")
	var ef engineFlags
	ef.add(fs, false)
	modelPath := fs.String("model", "", "model file")
	format := fs.String("format", "table", "output format: table, csv or json")
	sortInto := fs.String("sort-into", "", "copy (never move) each photo into OUT/<label>/ (photos unlike all its kinds into OUT/_strangers/)")
	explainDir := fs.String("explain", "", "write each photo with a heatmap of what the model looked at (Grad-CAM) into this folder, and add the heatmap to --format json")
	explainLayer := fs.String("explain-layer", explain.DefaultLayer.Name, "the layer --explain's heatmaps are made at: mixed7 (a 17×17 grid) or mixed10 (8×8)")
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
	if _, err := explain.LayerNamed(*explainLayer); err != nil {
		return fmt.Errorf("--explain-layer %q: want mixed7 or mixed10", *explainLayer)
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
	var ex *explained
	if *explainDir != "" {
		if ex, err = explainAll(ctx, e, c, preds, *explainDir, *explainLayer); err != nil {
			return err
		}
	}
	judged, why := c.JudgesStrangers()
	if err := writePredictions(e.stdout, *format, preds, ex, judged); err != nil {
		return err
	}
	if !judged && why != "" {
		fmt.Fprintf(e.stderr, "note: this model does not answer \"not one of its kinds\". %s\n", why)
	}
	if n := c.Rechecked(); n > 0 {
		fmt.Fprintf(e.stderr, "%d of %d photos were close calls in 8 bits: answered with the float image model.\n", n, len(preds))
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
		if strangers := countStrangers(preds); strangers > 0 {
			fmt.Fprintf(e.stderr, "%d photos are not one of its kinds: they go to %s.\n", strangers, filepath.Join(*sortInto, app.StrangersFolder))
		}
		if err != nil {
			return err
		}
	}
	if failed == len(preds) {
		return fmt.Errorf("none of the %d photos could be read", failed)
	}
	return nil
}

func countStrangers(preds []app.Prediction) int {
	n := 0
	for _, p := range preds {
		if p.Stranger && p.Err == nil {
			n++
		}
	}
	return n
}

// prediction is one photo's line in classify's JSON output.
type prediction struct {
	Path        string       `json:"path"`
	Label       string       `json:"label,omitempty"`
	Probability float64      `json:"probability,omitempty"`
	Top         []app.Scored `json:"top,omitempty"`
	// Unsure: the model is less confident than its threshold; Label is
	// its best guess.
	Unsure bool `json:"unsure,omitempty"`
	// Stranger: the photo is far from every kind the model knows, "not
	// one of its kinds"; Label is its best guess. StrangerScore ranks
	// such photos (0.5 and more; present when the model judges
	// strangers).
	Stranger      bool     `json:"stranger,omitempty"`
	StrangerScore *float64 `json:"stranger_score,omitempty"`
	Error         string   `json:"error,omitempty"`
	// Heatmap (with --explain) is where the model looked, rows of numbers
	// in [0, 1], row 0 at the top of the photo; Overlay the picture
	// written.
	Heatmap [][]float64 `json:"heatmap,omitempty"`
	Overlay string      `json:"overlay,omitempty"`
}

// explained holds the heatmaps and overlay files of classified photos, by
// prediction (nil and "" for failed photos).
type explained struct {
	maps     []*explain.Map
	overlays []string
}

// explainAll writes the heatmap overlay at layer of each readable photo
// into dir.
func explainAll(ctx context.Context, e *env, c *app.Classifier, preds []app.Prediction, dir, layer string) (*explained, error) {
	ex, err := e.app.NewExplainerAt(c, layer)
	if err != nil {
		return nil, err
	}
	defer ex.Close()
	bar := newProgressBar(e.stderr)
	out := &explained{maps: make([]*explain.Map, len(preds)), overlays: make([]string, len(preds))}
	start := time.Now()
	written := 0
	for i, p := range preds {
		if p.Err != nil {
			continue
		}
		m, err := ex.Explain(ctx, p.Path)
		if err != nil {
			return nil, err
		}
		out.maps[i] = m
		if out.overlays[i], err = app.WriteOverlay(p.Path, m, dir); err != nil {
			return nil, err
		}
		written++
		el := time.Since(start)
		rate := float64(written) / el.Seconds()
		bar.update("explaining", i+1, len(preds), rate, "images/s", time.Duration(float64(len(preds)-i-1)/rate*float64(time.Second)), i+1 == len(preds))
	}
	fmt.Fprintf(e.stderr, "Wrote %d heatmaps into %s.\n", written, dir)
	return out, nil
}

// writePredictions writes preds as a table, CSV or JSON; ex, when not
// nil, holds each photo's heatmap for the JSON; judged says whether the
// model answers "not one of its kinds" (the JSON then gives every photo's
// stranger score).
func writePredictions(w io.Writer, format string, preds []app.Prediction, ex *explained, judged bool) error {
	switch format {
	case "csv":
		return app.WriteCSV(w, preds)
	case "json":
		list := make([]prediction, len(preds))
		for i, p := range preds {
			list[i] = prediction{Path: p.Path, Label: p.Label(), Probability: p.Confidence(), Top: p.Top[:min(3, len(p.Top))], Unsure: p.Unsure, Stranger: p.Stranger}
			if judged && p.Err == nil {
				list[i].StrangerScore = &p.StrangerScore
			}
			if p.Err != nil {
				list[i].Error = p.Err.Error()
			}
			if ex != nil && ex.maps[i] != nil {
				list[i].Heatmap, list[i].Overlay = ex.maps[i].Grid(), ex.overlays[i]
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
		switch {
		case p.Stranger:
			label = "not one of its kinds (" + label + "?)"
		case p.Unsure:
			label = "not sure (" + label + "?)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f%%\t%s\n", p.Path, label, 100*p.Confidence(), second)
	}
	return tw.Flush()
}
