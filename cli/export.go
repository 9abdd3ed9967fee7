package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/clasifica/clasifica/app"
)

func runExport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("export", "--model MODEL --onnx OUT.onnx")
	modelPath := fs.String("model", "", "model file")
	out := fs.String("onnx", "", "ONNX file to write; labels.txt is written beside it")
	format := fs.String("format", "table", "output format: table or json")
	int8 := fs.Bool("int8", false, "write the image model in 8 bits (about a quarter of the size; for a model trained on 8-bit features, Clasifica's labels except some close calls, which Clasifica answers in float)")
	float := fs.Bool("float", false, "write the image model in float (the default)")
	runtimeLib := fs.String("runtime", "", "ONNX Runtime library file, to calibrate the 8-bit model when this computer has not yet (default: $ONNXRUNTIME_LIB, next to the executable, or the cache folder)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, e, "model", "onnx"); err != nil {
		return err
	}
	m, err := app.OpenModel(*modelPath)
	if err != nil {
		return err
	}
	// Float by default: any runtime runs it, and it gives Clasifica's
	// labels, also for a model trained on 8-bit features (Clasifica
	// answers their close calls in float).
	prec := app.PrecisionFloat
	switch {
	case *int8 && *float:
		return fmt.Errorf("--int8 and --float: choose one")
	case *int8:
		prec = app.PrecisionInt8
	}
	labels, err := e.app.ExportModelAs(ctx, m, *out, prec, *runtimeLib)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(e.stdout, map[string]string{"onnx": *out, "labels": labels})
	}
	fmt.Fprintf(e.stdout, "Wrote %s and %s\n", *out, labels)
	fmt.Fprintf(e.stderr, "Input %q: float32 [batch, 299, 299, 3], RGB 0-255; output %q: probabilities in the order of %s.\n",
		"image", "probabilities", filepath.Base(labels))
	return nil
}
