package app

import (
	"encoding/json"
	"os"
	"sync"

	"github.com/clasifica/clasifica/internal/atomicfile"
)

// jsonCache keeps what Clasifica measured on this computer (training
// speeds, the 8-bit check), by key, in memory and in one JSON file of the
// cache folder: the file is read once, and each put rewrites it
// atomically. A damaged file is rewritten: losing it only costs measuring
// again. It is safe for concurrent use, and across processes: a put reads
// the file again under its lock and adds to what it holds, so that the app
// and the command line (a bench, a training) measuring at once keep both
// measurements rather than the last writer's.
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
	// A cache: when it cannot be locked or written, the measurement is
	// kept in memory only, and the next run measures again.
	l, err := lockFile(c.file, 0, "saving what it measured in "+c.file)
	if err != nil {
		return
	}
	defer l.Unlock()
	disk := map[string]V{}
	if b, err := os.ReadFile(c.file); err == nil {
		_ = json.Unmarshal(b, &disk) // a damaged file is rewritten
	}
	for k, v := range disk {
		if k != key {
			c.mem[k] = v // the file's is the latest: measured since by another process, perhaps
		}
	}
	if b, err := json.MarshalIndent(c.mem, "", "  "); err == nil {
		_ = atomicfile.WriteFile(c.file, b, 0o644)
	}
}
