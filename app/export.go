package app

import (
	"fmt"
	"path/filepath"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/internal/version"
	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/export"
	"github.com/clasifica/clasifica/ml/model"
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

// ExportModel is Export for a model in memory.
func (a *App) ExportModel(m *model.Model, out string) (labels string, err error) {
	in, err := a.Backbones.Find(m.Backbone)
	if err != nil {
		return "", err
	}
	b, err := backbone.Open(in.Dir)
	if err != nil {
		return "", err
	}
	data, err := export.ONNX(m, b.Weights, version.String())
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
