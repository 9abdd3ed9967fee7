package app

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
)

// keepTuned is how many fine-tuned feature models the backbone folder
// keeps cached (each is the size of the backbone, about 90 MB).
const keepTuned = 3

// TunedFeatureModel returns the feature model of backbone in with m's
// fine-tuned blocks in place of its own. The graph is cached in the
// backbone's folder under a hash of the blocks, so that classifying with
// the same model again starts as fast as with a head-only one.
func (s *Backbones) TunedFeatureModel(ctx context.Context, in Installed, m *model.Model) ([]byte, error) {
	name := "tuned-" + topHash(m)
	if in.recorded {
		name += "-" + short(in.SHA256) // the model's own preprocessing
	}
	path := filepath.Join(in.Dir, name+".onnx")
	if data, err := os.ReadFile(path); err == nil {
		s.touch(path)
		return data, nil
	}
	w, err := s.Weights(in)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if w, err = m.Apply(w); err != nil {
		return nil, err
	}
	data, err := proto.Marshal(w.Model(in.Preprocess, nil, nil))
	if err != nil {
		return nil, fmt.Errorf("backbone %s: fine-tuned graph: %w", in.ID, err)
	}
	// The cache only saves time: a failure to write it is not an error.
	if atomicfile.WriteFile(path, data, 0o644) == nil {
		s.pruneTuned(in.Dir)
	}
	return data, nil
}

// topHash identifies a model's fine-tuned blocks by their content.
func topHash(m *model.Model) string {
	h := sha256.New()
	var buf [4]byte
	for _, u := range m.Top {
		h.Write([]byte(u.Conv + "\x00" + u.BN + "\x00"))
		for _, a := range [][]float32{u.Kernel, u.Beta} {
			for _, v := range a {
				binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
				h.Write(buf[:])
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:20]
}

// Weights returns the installed backbone's weights, checked against its
// recorded identity.
func (s *Backbones) Weights(in Installed) (*inception.Weights, error) {
	b, err := backbone.Open(in.Dir)
	if err != nil {
		return nil, err
	}
	if backbone.Identity(b.Weights, in.Preprocess) != in.SHA256 {
		return nil, fmt.Errorf("backbone %s changed on disk; import it again", in.ID)
	}
	return b.Weights, nil
}

// touch marks a cached graph as recently used.
func (s *Backbones) touch(path string) {
	now := time.Now()
	_ = os.Chtimes(path, now, now)
}

// pruneTuned removes all but the most recently used cached fine-tuned
// graphs.
func (s *Backbones) pruneTuned(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type file struct {
		path string
		mod  int64
	}
	var files []file
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tuned-") && strings.HasSuffix(e.Name(), ".onnx") {
			if info, err := e.Info(); err == nil {
				files = append(files, file{filepath.Join(dir, e.Name()), info.ModTime().UnixNano()})
			}
		}
	}
	slices.SortFunc(files, func(a, b file) int { return cmp.Compare(b.mod, a.mod) })
	for _, f := range files[min(len(files), keepTuned):] {
		os.Remove(f.path)
	}
}
