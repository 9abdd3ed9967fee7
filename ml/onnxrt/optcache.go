package onnxrt

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"
	"golang.org/x/sys/cpu"
)

// GraphCache keeps ONNX Runtime's optimised form of a model on disk, so
// that the next session of the same model skips the graph optimisation
// that dominates a session's creation (constant folding, fusing batch
// norms and activations into convolutions, and on x86 the NCHWc layout
// rewrite of every convolution).
//
// An optimised graph is only valid for the runtime release and the CPU
// that made it: the NCHWc rewrite picks its block size from the CPU's
// vector width, and a release may rename the internal operators it
// writes. So the file's name is keyed by both, besides the model; a file
// saved by another release or on another CPU is simply not found, and a
// file that fails to load is removed and the graph optimised afresh.
// Only CPU sessions use it: an accelerator's saved graph would depend on
// the driver and device too, and their sessions are rarer.
type GraphCache struct {
	// Dir is the folder that holds the optimised graphs; it is created
	// when missing.
	Dir string
	// Key identifies the model's content (for example a hash of the
	// weights and the graph's version); the same Key must always mean
	// the same model bytes. Empty disables the cache.
	Key string
	// Keep is how many optimised graphs Dir keeps, the most recently
	// used; 0 means 4. Each is about as large as its model.
	Keep int
}

// graphCacheVersion changes when what Clasifica asks ONNX Runtime to
// optimise changes (options that alter the optimised graph).
const graphCacheVersion = "1"

// File returns the path of the optimised graph that runtime version
// makes of the model on this machine's CPU.
func (c GraphCache) File(version string) string {
	h := sha256.New()
	fmt.Fprintf(h, "clasifica optimised graph %s\nmodel %s\nruntime %s\ncpu %s\n", graphCacheVersion, c.Key, version, cpuIdentity())
	return filepath.Join(c.Dir, "graph-"+hex.EncodeToString(h.Sum(nil))[:24]+".ort.onnx")
}

// buildCached creates a CPU session of model through the cache: from the
// saved optimised graph when there is one (its optimisation off), else
// fresh, saving the optimised graph for next time. Any failure of the
// cache falls back to a fresh session; only the fresh session's errors
// are returned.
func buildCached(model []byte, input, output string, opt Options) (*Session, error) {
	c := opt.GraphCache.sized(len(model))
	path := c.File(env.version)
	if s, err := loadOptimized(path, input, output, opt); err == nil {
		return s, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		// A damaged or incompatible file: it is ours, in the cache; a
		// fresh optimisation replaces it.
		os.Remove(path)
	}
	so, err := newSessionOptions(CPU, opt)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	tmp := ""
	if err := os.MkdirAll(c.Dir, 0o755); err == nil {
		tmp = fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
		if err := so.SetOptimizedModelFilePath(tmp); err != nil {
			tmp = ""
		}
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{input}, []string{output}, so)
	if err != nil {
		if tmp != "" {
			os.Remove(tmp)
		}
		return nil, err
	}
	if tmp != "" {
		// ONNX Runtime wrote the file while it created the session. Only
		// a complete file takes the final name; a failure costs the next
		// start an optimisation, nothing else.
		if err := syncFile(tmp); err != nil || os.Rename(tmp, path) != nil {
			os.Remove(tmp)
		} else {
			c.prune()
		}
	}
	return &Session{s: s, input: input, output: output, opt: withoutCache(opt)}, nil
}

// sized returns c keyed also by the model's size: a cheap guard against
// a Key reused for another model.
func (c GraphCache) sized(size int) GraphCache {
	c.Key = fmt.Sprintf("%s\n%d bytes", c.Key, size)
	return c
}

// CachedSession returns the CPU session that opt.GraphCache holds for a
// model of size bytes, without the model itself; false when opt asks for
// another provider than the CPU (Auto included: which provider a model
// gets is only known by trying it), has no usable cache, or the cache
// holds no loadable graph of it; NewSession then builds it. A fresh
// process reading a float InceptionV3 (87 MB) spent 50–65 ms on that and
// held its bytes, where the saved graph is all the session needs.
func (r *Runtime) CachedSession(size int, input, output string, opt Options) (*Session, bool) {
	c := opt.GraphCache
	if r == nil || opt.Provider != CPU || c == nil || c.Key == "" || c.Dir == "" {
		return nil, false
	}
	path := c.sized(size).File(env.version)
	s, err := loadOptimized(path, input, output, opt)
	if err != nil {
		return nil, false
	}
	s.placement.Provider, s.placement.Requested = CPU, CPU
	return s, true
}

// loadOptimized creates a session from a saved optimised graph, with
// ONNX Runtime's optimisation off (it was done when the graph was saved),
// and marks the graph used: prune keeps the most recently used.
func loadOptimized(path, input, output string, opt Options) (*Session, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	so, err := newSessionOptions(CPU, opt)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	if err := so.SetGraphOptimizationLevel(ort.GraphOptimizationLevelDisableAll); err != nil {
		return nil, err
	}
	s, err := ort.NewDynamicAdvancedSession(path, []string{input}, []string{output}, so)
	if err != nil {
		return nil, fmt.Errorf("load optimised graph %s: %w", path, err)
	}
	now := time.Now()
	_ = os.Chtimes(path, now, now)
	return &Session{s: s, input: input, output: output, opt: withoutCache(opt)}, nil
}

// prune removes all but the Keep most recently used optimised graphs,
// and temporary files that a killed process left behind.
func (c GraphCache) prune() {
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return
	}
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "graph-") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		switch {
		case strings.HasSuffix(name, ".ort.onnx"):
			files = append(files, file{filepath.Join(c.Dir, name), info.ModTime()})
		case strings.HasSuffix(name, ".tmp") && time.Since(info.ModTime()) > time.Hour:
			os.Remove(filepath.Join(c.Dir, name))
		}
	}
	keep := c.Keep
	if keep <= 0 {
		keep = 4
	}
	slices.SortFunc(files, func(a, b file) int { return b.mod.Compare(a.mod) })
	for _, f := range files[min(len(files), keep):] {
		os.Remove(f.path)
	}
}

// withoutCache returns opt without its GraphCache: a session's options
// may be reused for other models (Session.Options), which must not find
// this model's saved graph.
func withoutCache(opt Options) Options {
	opt.GraphCache = nil
	return opt
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// cpuIdentity names this machine's CPU as far as an optimised graph
// depends on it: architecture, model name where the system says it, and
// the vector extensions ONNX Runtime chooses its kernels and layouts by.
var cpuIdentity = sync.OnceValue(func() string {
	var b strings.Builder
	b.WriteString(runtime.GOOS + "/" + runtime.GOARCH)
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				b.WriteString(" " + strings.TrimSpace(v))
				break
			}
		}
	}
	feats := []struct {
		name string
		has  bool
	}{
		{"avx", cpu.X86.HasAVX}, {"avx2", cpu.X86.HasAVX2}, {"fma", cpu.X86.HasFMA},
		{"avx512f", cpu.X86.HasAVX512F}, {"avx512bw", cpu.X86.HasAVX512BW},
		{"avx512vnni", cpu.X86.HasAVX512VNNI}, {"avxvnni", cpu.X86.HasAVXVNNI},
		{"avx512bf16", cpu.X86.HasAVX512BF16}, {"amxint8", cpu.X86.HasAMXInt8},
		{"asimd", cpu.ARM64.HasASIMD}, {"asimddp", cpu.ARM64.HasASIMDDP},
		{"i8mm", cpu.ARM64.HasI8MM}, {"sve", cpu.ARM64.HasSVE},
	}
	for _, f := range feats {
		if f.has {
			b.WriteString(" " + f.name)
		}
	}
	return b.String()
})

// CPUIdentity names this machine's CPU: architecture, model name where
// the system says it, and the vector extensions ONNX Runtime chooses its
// kernels by (AVX-512 VNNI, AMX, …). What is measured of the runtime's
// speed on one machine is keyed by it.
func CPUIdentity() string { return cpuIdentity() }
