// Command notsure checks the "not sure" promise on photos the model never
// saw: for each seed it trains on a folder with validation and test
// splits (the same photos each time: the split is by content), chooses the threshold for each target accuracy on the
// validation photos (as training does), and measures it on the test
// photos. It prints each run and the totals over the seeds.
//
//	go run ./tools/notsure -data testdata/photos/flowers -seeds 5
//
// It uses the installed default backbone (CLASIFICA_HOME and
// ONNXRUNTIME_LIB as the command line does).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/selective"
	"github.com/clasifica/clasifica/ml/train"
)

func main() {
	data := flag.String("data", "", "folder of labelled photos")
	seeds := flag.Int("seeds", 3, "training runs, each from its own random start (the split is by content, the same in every run)")
	val := flag.Float64("val", 0.3, "validation share (the threshold's photos)")
	test := flag.Float64("test", 0.3, "test share (the check's photos)")
	targets := flag.String("targets", "0.5,0.7,0.9", "target accuracies, comma-separated")
	flag.Parse()
	if err := run(*data, *seeds, *val, *test, *targets); err != nil {
		fmt.Fprintln(os.Stderr, "notsure:", err)
		os.Exit(1)
	}
}

func run(data string, seeds int, val, test float64, targetList string) error {
	var targets []float64
	for _, s := range strings.Split(targetList, ",") {
		t, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("-targets: %w", err)
		}
		targets = append(targets, t)
	}
	ctx := context.Background()
	dirs, err := app.DefaultDirs()
	if err != nil {
		return err
	}
	a := app.New(dirs)
	eng, err := a.OpenEngine(ctx, app.EngineOptions{})
	if err != nil {
		return err
	}
	defer eng.Close()
	fmt.Printf("%s, backbone %s, validation %.0f%%, test %.0f%%\n", data, eng.Backbone.ID, 100*val, 100*test)
	type total struct{ valAns, valRight, valN, testAns, testRight, testN int }
	totals := make([]total, len(targets))
	for seed := 1; seed <= seeds; seed++ {
		o := train.DefaultOptions()
		o.Seed = uint64(seed)
		dopt := dataset.DefaultOptions()
		dopt.Validation, dopt.Test = val, test
		res, err := a.Train(ctx, eng, app.TrainRequest{Data: data, DataOptions: dopt, Options: o}, nil)
		if err != nil {
			return err
		}
		probs, truths := train.Probabilities(res.Validation)
		fmt.Printf("seed %d: accuracy %.1f%% on %d test photos\n", seed, 100*res.Report.Accuracy, res.Report.N)
		for i, target := range targets {
			th, err := train.NewThreshold(probs, truths, target, "validation")
			if err != nil {
				return err
			}
			got, err := train.MeasureThreshold(th.Value, res.Samples)
			if err != nil {
				return err
			}
			fmt.Printf("  target %3.0f%%: threshold %.3f; validation answers %2d/%d, right %5.1f%% (at least %4.1f%%); test answers %2d/%d, right %5.1f%%\n",
				100*target, th.Value, th.Answered, th.Photos, 100*th.Accuracy, 100*th.Point().LowerBound(), got.Answered, got.Photos, 100*got.Accuracy)
			t := &totals[i]
			t.valAns += th.Answered
			t.valRight += int(float64(th.Answered)*th.Accuracy + 0.5)
			t.valN += th.Photos
			t.testAns += got.Answered
			t.testRight += int(float64(got.Answered)*got.Accuracy + 0.5)
			t.testN += got.Photos
		}
	}
	fmt.Println("over all seeds:")
	for i, t := range totals {
		fmt.Printf("  target %3.0f%%: validation answered %d/%d, right %s; test answered %d/%d, right %s (95%% interval from %s)\n",
			100*targets[i], t.valAns, t.valN, pct(t.valRight, t.valAns), t.testAns, t.testN, pct(t.testRight, t.testAns),
			pctf(selective.Point{Answered: t.testAns, Accuracy: ratio(t.testRight, t.testAns)}.LowerBound()))
	}
	return nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func pct(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

func pctf(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }
