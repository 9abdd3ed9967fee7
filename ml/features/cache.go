package features

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/clasifica/clasifica/internal/atomicfile"
	float16 "github.com/clasifica/clasifica/internal/half"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Key identifies one cached feature vector: the photo's content, the
// backbone that computed it, the augmented view of the photo (empty for
// the photo itself) and the JPEG decoder that made its pixels.
type Key struct {
	Backbone string   // backbone identity, e.g. its SHA-256 in hex
	Photo    [32]byte // SHA-256 of the photo file's content
	View     string   // augmentation view; "" for the original photo
	// Decoder is the JPEG decoder the photo went through
	// (photo.JPEGDecoder.Used). Decoders differ by a few levels per pixel,
	// so switching decoders must not mix their vectors in one training;
	// "" is a key of no decoder (vectors cached before keys named one are
	// never read as either decoder's).
	Decoder string
}

// Cache stores feature vectors on disk, one small file per vector, so that a
// second training over the same photos skips extraction. Entries are keyed
// by content, not path: renaming or moving photos keeps their features, and
// editing a photo changes its key.
//
// Every entry carries a checksum; an entry that fails it (a crash during a
// write, disk corruption) is deleted and reported as missing, so it is
// recomputed rather than trusted. Cache is safe for concurrent use.
type Cache struct {
	dir string
}

// OpenCache opens (creating if needed) the cache in dir.
func OpenCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open feature cache: %w", err)
	}
	return &Cache{dir: dir}, nil
}

// Dir returns the cache's folder.
func (c *Cache) Dir() string { return c.dir }

const (
	entryMagic  = "CLF1" // float32 values
	halfMagic   = "CLH1" // float16 values
	entryHeader = 8      // magic + uint32 count
	maxEntryLen = 1 << 20
)

func (c *Cache) path(k Key, ext string) string {
	h := hex.EncodeToString(k.Photo[:])
	name := h
	if k.View != "" {
		name += "." + sanitize(k.View)
	}
	if k.Decoder != "" {
		name += ".jpeg-" + sanitize(k.Decoder)
	}
	return filepath.Join(c.dir, sanitize(k.Backbone), h[:2], name+ext)
}

// sanitize keeps a key component usable as a file name on every platform.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// Get returns the vector stored under k, if a sound entry exists.
func (c *Cache) Get(k Key) ([]float32, bool) {
	return c.get(k, false, nil)
}

// GetHalf returns the vector stored under k by PutHalf, if a sound entry
// exists, converted to float32 into dst when it has room (so that a
// streaming reader allocates nothing).
func (c *Cache) GetHalf(k Key, dst []float32) ([]float32, bool) {
	return c.get(k, true, dst)
}

func (c *Cache) get(k Key, half bool, dst []float32) ([]float32, bool) {
	ext := ".f32"
	if half {
		ext = ".f16"
	}
	p := c.path(k, ext)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	v, err := decodeEntry(data, half, dst)
	if err != nil {
		os.Remove(p)
		return nil, false
	}
	return v, true
}

func decodeEntry(data []byte, half bool, dst []float32) ([]float32, error) {
	magic, size := entryMagic, 4
	if half {
		magic, size = halfMagic, 2
	}
	if len(data) < entryHeader+4 || string(data[:4]) != magic {
		return nil, errors.New("not a feature cache entry")
	}
	n := binary.LittleEndian.Uint32(data[4:8])
	if n > maxEntryLen || len(data) != entryHeader+size*int(n)+4 {
		return nil, errors.New("feature cache entry has the wrong length")
	}
	body := data[:len(data)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, errors.New("feature cache entry fails its checksum")
	}
	v := dst[:0]
	if cap(v) < int(n) {
		v = make([]float32, n)
	}
	v = v[:n]
	for i := range v {
		if half {
			v[i] = float16.ToFloat32(binary.LittleEndian.Uint16(data[entryHeader+2*i:]))
		} else {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[entryHeader+4*i:]))
		}
		if math.IsNaN(float64(v[i])) || math.IsInf(float64(v[i]), 0) {
			return nil, errors.New("feature cache entry holds a non-finite value")
		}
	}
	return v, nil
}

// Put stores v under k. The entry appears atomically: readers see the old
// entry, no entry, or the whole new one.
func (c *Cache) Put(k Key, v []float32) error {
	return c.put(k, v, false)
}

// PutHalf stores v under k as float16, half the size of Put's entries, for
// large vectors that tolerate a relative rounding of 2⁻¹¹ (the mixed8
// activations fine-tuning reads). Values beyond float16's range are
// clamped to ±65504.
func (c *Cache) PutHalf(k Key, v []float32) error {
	return c.put(k, v, true)
}

func (c *Cache) put(k Key, v []float32, half bool) error {
	ext, magic, size := ".f32", entryMagic, 4
	if half {
		ext, magic, size = ".f16", halfMagic, 2
	}
	p := c.path(k, ext)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("feature cache: %w", err)
	}
	data := make([]byte, entryHeader+size*len(v)+4)
	copy(data, magic)
	binary.LittleEndian.PutUint32(data[4:], uint32(len(v)))
	for i, x := range v {
		if half {
			binary.LittleEndian.PutUint16(data[entryHeader+2*i:], float16.FromFloat32(x))
		} else {
			binary.LittleEndian.PutUint32(data[entryHeader+4*i:], math.Float32bits(x))
		}
	}
	binary.LittleEndian.PutUint32(data[len(data)-4:], crc32.ChecksumIEEE(data[:len(data)-4]))
	// Entries carry a CRC that Get checks, and a lost one is
	// recomputed: no fsync per entry.
	if err := atomicfile.WriteUnsynced(p, data, 0o644); err != nil {
		return fmt.Errorf("feature cache: %w", err)
	}
	return nil
}

// Stats reports the number of entries and their total size in bytes.
func (c *Cache) Stats() (entries int, bytes int64, err error) {
	err = filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".f32") || strings.HasSuffix(p, ".f16")) {
			info, err := d.Info()
			if err != nil {
				return err
			}
			entries++
			bytes += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("feature cache %s: %w", c.dir, err)
	}
	return entries, bytes, nil
}

// Clear deletes every entry.
func (c *Cache) Clear() error {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("clear feature cache: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(c.dir, e.Name())); err != nil {
			return fmt.Errorf("clear feature cache: %w", err)
		}
	}
	return nil
}
