package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/model"
)

func runEval(ctx context.Context, e *env, args []string) error {
	fs := e.flags("eval", "--model MODEL [--data DIR] [options]")
	var ef engineFlags
	ef.add(fs, false)
	modelPath := fs.String("model", "", "model file")
	data := fs.String("data", "", "folder of labelled photos laid out like training data (default: the test split recorded in the model)")
	format := fs.String("format", "table", "output format: table or json")
	gran := fs.String("granularity", "breed", "Oxford-IIIT Pet classes: breed or species")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, e, "model"); err != nil {
		return err
	}
	g, err := parseGranularity(*gran)
	if err != nil {
		return err
	}
	c, err := e.openClassifier(ctx, *modelPath, &ef)
	if err != nil {
		return err
	}
	defer c.Engine.Close()
	bar := newProgressBar(e.stderr)
	progress := func(p features.Progress) {
		bar.update("features", p.Done, p.Total, p.Rate(), "images/s", p.Remaining(), p.Done == p.Total)
	}
	var ev *app.Evaluation
	if *data != "" {
		// Evaluation counts the photos as the user decided, like training.
		var opt dataset.Options
		if opt, err = e.app.WithDecisions(*data, dataset.Options{Granularity: g}); err != nil {
			return err
		}
		ev, err = c.EvaluateFolder(ctx, *data, opt, progress)
	} else {
		ev, err = c.EvaluateRecorded(ctx, progress)
	}
	if err != nil {
		return err
	}
	for _, s := range ev.Skipped {
		fmt.Fprintf(e.stderr, "skipped: %s\n", s)
	}
	if *format == "json" {
		return writeEvalJSON(e.stdout, ev, c.Engine.RunsOn())
	}
	return writeEvalTable(e.stdout, ev)
}

// writeEvalTable writes the report's tables and the ten most confident
// mistakes.
func writeEvalTable(w io.Writer, ev *app.Evaluation) error {
	if err := ev.Report.WriteTable(w); err != nil {
		return err
	}
	if t := ev.Threshold; t != nil {
		fmt.Fprintf(w, "\nNot sure below %.1f%% confidence: answered %d of %d photos (%.1f%%), right on %.1f%% of those (promised %.1f%% %s, target %.0f%%).\n",
			100*t.Value, t.Answered, t.Photos, 100*t.Coverage, 100*t.Accuracy, 100*t.Promised, promiseBasis(t), 100*t.TargetAccuracy)
	}
	switch s := ev.Strangers; {
	case s == nil:
	case !s.Judged:
		fmt.Fprintf(w, "\nNot one of its kinds: not judged. %s\n", s.Reason)
	default:
		fmt.Fprintf(w, "\nNot one of its kinds: %d of %d photos answered so (each a false alarm: these photos are of its kinds).\n", s.Answered, s.Photos)
	}
	if n := len(ev.Report.Mistakes); n > 0 {
		fmt.Fprintf(w, "\nMost confident mistakes (%d in all):\n", n)
		for _, m := range ev.Report.Mistakes[:min(n, 10)] {
			fmt.Fprintf(w, "  %s: %s (%.0f%%), is %s\n", ev.Samples[m.Index].Path,
				ev.Report.Labels[m.Predicted], 100*m.Confidence, ev.Report.Labels[m.Truth])
		}
	}
	return nil
}

// writeEvalJSON writes the report, with each mistake's photo path added
// and where the backbone really ran.
func writeEvalJSON(w io.Writer, ev *app.Evaluation, runsOn app.RunsOn) error {
	data, err := json.Marshal(ev.Report)
	if err != nil {
		return err
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return err
	}
	mistakes := make([]map[string]any, len(ev.Report.Mistakes))
	for i, m := range ev.Report.Mistakes {
		mistakes[i] = map[string]any{"index": m.Index, "path": ev.Samples[m.Index].Path,
			"truth": ev.Report.Labels[m.Truth], "predicted": ev.Report.Labels[m.Predicted], "confidence": m.Confidence}
	}
	out["mistakes"] = mistakes
	out["runs_on"] = runsOn
	if ev.Threshold != nil {
		out["threshold"] = ev.Threshold
	}
	if ev.Strangers != nil {
		out["strangers"] = ev.Strangers
	}
	return writeJSON(w, out)
}

// promiseBasis says in a few words what a threshold's promise rests on.
func promiseBasis(t *app.ThresholdResult) string {
	switch t.Basis {
	case model.BasisOutOfFold:
		return fmt.Sprintf("by cross-validation: %d out-of-fold predictions of %d heads", t.PromisePhotos, t.Folds)
	case model.BasisValidationHalf:
		return fmt.Sprintf("on %d validation photos kept aside", t.PromisePhotos)
	}
	return fmt.Sprintf("on %d validation photos, which also chose the epoch: optimistic", t.PromisePhotos)
}
