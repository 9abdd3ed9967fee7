package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/clasifica/clasifica/internal/atomicfile"
)

// jsonCache keeps what Clasifica measured on this computer (training
// speeds, the 8-bit check), by key, in memory and in one JSON file of the
// cache folder: the file is read once, and each put rewrites it
// atomically. A damaged file is rewritten: losing it only costs measuring
// again. It is safe for concurrent use.
type jsonCache[V any] struct {
	mu   sync.Mutex
	file string
	mem  map[string]V
}

// load reads the file once; c.mu must be held.
func (c *jsonCache[V]) load() {
	if c.mem == nil {
		c.mem = map[string]V{}
		if b, err := os.ReadFile(c.file); err == nil {
			_ = json.Unmarshal(b, &c.mem) // a damaged file is rewritten
		}
	}
}

func (c *jsonCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.load()
	v, ok := c.mem[key]
	return v, ok
}

func (c *jsonCache[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.load()
	c.mem[key] = v
	if b, err := json.MarshalIndent(c.mem, "", "  "); err == nil && os.MkdirAll(filepath.Dir(c.file), 0o755) == nil {
		_ = atomicfile.WriteFile(c.file, b, 0o644) // a cache: losing it costs a new measurement
	}
}
