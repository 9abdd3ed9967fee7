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
	if disk, ok := updateJSON(c.file, "saving what it measured in "+c.file, func(disk map[string]V) {
		// The file's entries are the latest (measured since by another
		// process, perhaps), but for key's.
		for k, m := range c.mem {
			if _, ok := disk[k]; !ok || k == key {
				disk[k] = m
			}
		}
	}); ok {
		c.mem = disk
	}
}

// updateJSON changes a cache file of entries by key under its lock: it
// reads the file again (a damaged one counts as empty and is rewritten),
// lets update change its entries, writes them atomically and returns
// them; false when the file could not be locked. A cache: what cannot be
// locked or written stays in the caller's memory only, and the next run
// measures again.
func updateJSON[V any](file, doing string, update func(disk map[string]V)) (map[string]V, bool) {
	l, err := lockFile(file, 0, doing)
	if err != nil {
		return nil, false
	}
	defer l.Unlock()
	disk := map[string]V{}
	if b, err := os.ReadFile(file); err == nil {
		_ = json.Unmarshal(b, &disk)
	}
	update(disk)
	if b, err := json.MarshalIndent(disk, "", "  "); err == nil {
		_ = atomicfile.WriteFile(file, b, 0o644)
	}
	return disk, true
}
