package app

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/internal/version"
	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/export"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"google.golang.org/protobuf/proto"
)

// Export writes the model at modelPath as one standalone ONNX file at out,
// and its labels, one per line, to labels.txt beside it (returned). Both
// are written atomically.
func (a *App) Export(modelPath, out string) (labels string, err error) {
	m, err := model.ReadFile(modelPath)
	if err != nil {
		return "", err
	}
	return a.ExportModel(m, out)
}

// ExportModel is Export for a model in memory: its image model in float,
// which gives Clasifica's labels, also for a model trained on 8-bit
// features (Clasifica answers their close calls with the float image
// model: see Classifier.Rechecked).
func (a *App) ExportModel(m *model.Model, out string) (labels string, err error) {
	return a.ExportModelAs(context.Background(), m, out, PrecisionFloat, "")
}

// ExportModelAs is ExportModel with the image model in prec: float (what
// Export writes, which any ONNX runtime runs as fast as its float
// kernels go) or int8 (the backbone's 8-bit model, about a quarter of the
// size, whose labels are those of Clasifica's 8-bit pass: close calls
// may differ; calibrated first on runtime, the library as
// EngineOptions.Runtime names it, when this computer has not made it
// yet).
func (a *App) ExportModelAs(ctx context.Context, m *model.Model, out string, prec Precision, runtime string) (labels string, err error) {
	in, err := a.Backbones.Find(m.Backbone)
	if err != nil {
		return "", err
	}
	var data []byte
	if prec == PrecisionInt8 {
		data, err = a.exportInt8(ctx, in, m, runtime)
	} else {
		var b *backbone.Backbone
		if b, err = backbone.Open(in.Dir); err != nil {
			return "", err
		}
		data, err = export.ONNX(m, b.Weights, version.String())
	}
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(out, data, 0o644); err != nil {
		return "", fmt.Errorf("export %s: %w", out, err)
	}
	labels = filepath.Join(filepath.Dir(out), "labels.txt")
	if err := atomicfile.WriteFile(labels, export.Labels(m), 0o644); err != nil {
		return "", fmt.Errorf("export %s: %w", labels, err)
	}
	return labels, nil
}

func (a *App) exportInt8(ctx context.Context, in Installed, m *model.Model, runtime string) ([]byte, error) {
	rt, err := LoadRuntime(runtime, a.Dirs)
	if err != nil {
		return nil, err
	}
	data, err := a.Backbones.Int8FeatureModel(ctx, in, onnxrt.Engine{Runtime: rt, Options: onnxrt.Options{Provider: onnxrt.CPU}})
	if err != nil {
		return nil, err
	}
	var f onnx.ModelProto
	if err := proto.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("backbone %s: read the 8-bit feature model: %w", in.ID, err)
	}
	return export.Int8(m, &f, version.String())
}
