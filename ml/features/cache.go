package features

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/clasifica/clasifica/internal/atomicfile"
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
			v[i] = halfToFloat(binary.LittleEndian.Uint16(data[entryHeader+2*i:]))
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
			binary.LittleEndian.PutUint16(data[entryHeader+2*i:], floatToHalf(x))
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

// floatToHalf rounds f to the nearest IEEE 754 binary16 value (ties to
// even), clamping finite values beyond its range to ±65504.
func floatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case b&0x7fffffff == 0:
		return sign
	case exp >= 31:
		return sign | 0x7bff // clamp to the largest finite value
	case exp <= 0:
		// Subnormal: shift the mantissa with its implicit bit.
		if exp < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint(14 - exp)
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, which is still correct
	}
	if h >= 0x7c00 {
		return sign | 0x7bff
	}
	return sign | uint16(h)
}

// halfToFloat converts an IEEE 754 binary16 value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: mant·2⁻²⁴.
		f := float32(mant) / (1 << 24)
		if sign != 0 {
			f = -f
		}
		return f
	case 31:
		if mant == 0 {
			return math.Float32frombits(sign | 0x7f800000)
		}
		return float32(math.NaN())
	}
	return math.Float32frombits(sign | (exp-15+127)<<23 | mant<<13)
}
