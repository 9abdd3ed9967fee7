package app

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/clasifica/clasifica/ml/onnxrt"
)

// graphCacheDir is the folder, inside a backbone's folder, that keeps ONNX
// Runtime's optimised graphs of its feature models.
const graphCacheDir = "optimised"

// graphCache returns where a CPU session of the backbone graph in file (a
// file in in's folder: features.onnx or a fine-tuned graph) keeps its
// optimised form, or nil when file cannot be read. Optimising
// InceptionV3's graph is most of a session's creation, and so of the
// time from starting `classify` to the first label; the saved graph
// skips it.
//
// The key names the graph file's content by the backbone's SHA-256 (its
// weights and preprocessing) and
// the file's name, size and modification time: the file is written once
// (atomically) from those weights and replaced, never edited, so a new
// graph gets a new key. ml/onnxrt adds the runtime's version and the CPU.
func graphCache(in Installed, file string) *onnxrt.GraphCache {
	st, err := os.Stat(file)
	if err != nil {
		return nil
	}
	key := fmt.Sprintf("%s %s %d %d", in.SHA256, filepath.Base(file), st.Size(), st.ModTime().UnixNano())
	return &onnxrt.GraphCache{Dir: filepath.Join(in.Dir, graphCacheDir), Key: key}
}

// graphFile is the file that FeatureModel (tuned empty) or
// TunedFeatureModel (tuned the model's topHash) keeps the graph in.
func (s *Backbones) graphFile(in Installed, tuned string) string {
	if tuned != "" {
		return filepath.Join(in.Dir, "tuned-"+tuned+".onnx")
	}
	return filepath.Join(in.Dir, featureModelFile)
}
