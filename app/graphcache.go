package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clasifica/clasifica/ml/inception"
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

// backboneSession opens exec's session of the backbone graph that load
// returns and file keeps. With saved true, a CPU session whose optimised
// graph is saved is loaded from that alone, before load is called: the
// graph's own bytes (87 MB in float, 22 MB in 8 bits) cost a fresh
// process 50–65 ms and their memory, where the saved graph is all the
// session needs. Fine-tuned graphs are always read (saved false): their
// reading also marks them used, which keeps them from being pruned.
func backboneSession(ctx context.Context, exec onnxrt.Engine, in Installed, file string, saved bool, load func() ([]byte, error)) (*onnxrt.Session, error) {
	if saved {
		if st, err := os.Stat(file); err == nil {
			cached := exec
			cached.Options.GraphCache = graphCache(in, file)
			if s, ok := cached.CachedSession(int(st.Size()), inception.InputName, inception.OutputName); ok {
				return s, nil
			}
		}
	}
	onnx, err := load()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The key is taken after load, which may have just written file.
	exec.Options.GraphCache = graphCache(in, file)
	s, err := exec.NewSession(onnx, inception.InputName, inception.OutputName)
	if err != nil {
		return nil, fmt.Errorf("backbone %s: %w", in.ID, err)
	}
	return s, nil
}
