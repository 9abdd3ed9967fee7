// Command notsure checks the "not sure" promise on photos the model never
// saw: for each seed it trains on a folder with validation and test
// splits (the same photos each time: the split is by content) and, for
// each target accuracy, chooses the threshold on two bases from that one
// run, the out-of-fold predictions of k heads over the training and
// validation photos (what training does for a head-only model) and the
// validation photos that also chose the epoch (what it did before), and
// measures both on the test photos. It prints each run and the totals
// over the seeds.
//
//	go run ./tools/notsure -data testdata/photos/flowers -seeds 5
//	go run ./tools/notsure -data testdata/photos/pets -species -seeds 5
//
// -species copies a folder of Oxford-IIIT Pet breeds (capitalised breeds
// are cats) into a temporary cat/dog folder first. It uses the installed
// default backbone (CLASIFICA_HOME and ONNXRUNTIME_LIB as the command
// line does).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/selective"
	"github.com/clasifica/clasifica/ml/train"
)

func main() {
	data := flag.String("data", "", "folder of labelled photos")
	species := flag.Bool("species", false, "the folder holds Oxford-IIIT Pet breeds: train cat against dog")
	seeds := flag.Int("seeds", 3, "training runs, each from its own random start (the split is by content, the same in every run)")
	val := flag.Float64("val", 0.3, "validation share")
	test := flag.Float64("test", 0.3, "test share (the check's photos)")
	targets := flag.String("targets", "0.5,0.7,0.9", "target accuracies, comma-separated")
	weights := flag.String("backbone", "", "an installed backbone's id or weights to import (default: the default backbone)")
	flag.Parse()
	dir := *data
	if *species {
		tmp, err := os.MkdirTemp("", "notsure-species-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "notsure:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		if err := mltest.LinkBySpecies(*data, tmp); err != nil {
			fmt.Fprintln(os.Stderr, "notsure:", err)
			os.Exit(1)
		}
		dir = tmp
	}
	if err := run(dir, *weights, *seeds, *val, *test, *targets); err != nil {
		fmt.Fprintln(os.Stderr, "notsure:", err)
		os.Exit(1)
	}
}

// tally adds up one basis's promises and their test measures.
type tally struct{ ans, right, n, testAns, testRight, testN int }

func (t *tally) add(th *model.Threshold, got selective.Point) {
	t.ans += th.Answered
	t.right += int(float64(th.Answered)*th.Accuracy + 0.5)
	t.n += th.Photos
	t.testAns += got.Answered
	t.testRight += int(float64(got.Answered)*got.Accuracy + 0.5)
	t.testN += got.Photos
}

func (t tally) String() string {
	return fmt.Sprintf("promised %s (answered %d/%d); test answered %d/%d, right %s (95%% interval from %s)",
		pct(t.right, t.ans), t.ans, t.n, t.testAns, t.testN, pct(t.testRight, t.testAns),
		pctf(selective.Point{Answered: t.testAns, Accuracy: ratio(t.testRight, t.testAns)}.LowerBound()))
}

func run(data, weights string, seeds int, val, test float64, targetList string) error {
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
	eng, err := a.OpenEngine(ctx, app.EngineOptions{Backbone: weights})
	if err != nil {
		return err
	}
	defer eng.Close()
	fmt.Printf("%s, backbone %s, validation %.0f%%, test %.0f%%\n", data, eng.Backbone.ID, 100*val, 100*test)
	bases := []string{model.BasisOutOfFold, model.BasisValidation}
	totals := make([][2]tally, len(targets))
	for seed := 1; seed <= seeds; seed++ {
		o := train.DefaultOptions()
		o.Seed = uint64(seed)
		dopt := dataset.DefaultOptions()
		dopt.Validation, dopt.Test = val, test
		// The out-of-fold heads' time, from their last progress event.
		var folds train.Calibration
		res, err := a.Train(ctx, eng, app.TrainRequest{Data: data, DataOptions: dopt, Options: o}, func(e app.Event) {
			if c, ok := e.(train.Calibration); ok {
				folds = c
			}
		})
		if err != nil {
			return err
		}
		if b := res.Model.Threshold.Basis; b != model.BasisOutOfFold {
			return fmt.Errorf("seed %d: the model's threshold rests on %q, not out-of-fold predictions", seed, b)
		}
		fmt.Printf("seed %d: accuracy %.1f%% on %d test photos; %d out-of-fold heads, %d epochs in all, %.2f s (training took %.2f s)\n",
			seed, 100*res.Report.Accuracy, res.Report.N, folds.Folds, folds.Total, folds.Elapsed.Seconds(), res.Model.Training.Duration)
		for i, target := range targets {
			for b, cal := range [][]train.Prediction{res.Calibration, res.Validation} {
				probs, truths := train.Probabilities(cal)
				th, err := train.NewThreshold(probs, truths, target, bases[b])
				if err != nil {
					return err
				}
				got, err := train.MeasureThreshold(th.Value, res.Samples)
				if err != nil {
					return err
				}
				fmt.Printf("  target %3.0f%%, %-11s: threshold %.3f; promised answers %3d/%d, right %5.1f%% (at least %4.1f%%); test answers %2d/%d, right %5.1f%%\n",
					100*target, bases[b], th.Value, th.Answered, th.Photos, 100*th.Accuracy, 100*th.Point().LowerBound(), got.Answered, got.Photos, 100*got.Accuracy)
				totals[i][b].add(th, got)
			}
		}
	}
	fmt.Println("over all seeds:")
	for i, t := range totals {
		for b := range bases {
			fmt.Printf("  target %3.0f%%, %-11s: %s\n", 100*targets[i], bases[b], t[b])
		}
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
