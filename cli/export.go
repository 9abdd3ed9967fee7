package cli

import (
	"context"
	"fmt"
	"path/filepath"
)

func runExport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("export", "--model MODEL --onnx OUT.onnx")
	modelPath := fs.String("model", "", "model file")
	out := fs.String("onnx", "", "ONNX file to write; labels.txt is written beside it")
	format := fs.String("format", "table", "output format: table or json")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, e, "model", "onnx"); err != nil {
		return err
	}
	labels, err := e.app.Export(*modelPath, *out)
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
