package doctor

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/internal/filelock"
)

// Prints keeps photos' fingerprints by content hash in one small file (104
// bytes a photo), so that a second check does not decode every photo
// again. They depend on the photo only, not on the backbone, so they live
// apart from the feature cache and survive clearing it. Prints is not safe
// for concurrent use; two processes may share the file (see Save).
type Prints struct {
	file  string
	m     map[[32]byte]Print
	dirty bool
}

const (
	printsMagic  = "CLP1"
	printsRecord = 32 + 8 + 32 + 32
)

// OpenPrints reads the fingerprints kept in file; a missing file is an
// empty store, and an empty file name a store that Save does not write. A damaged file (a disk error: writes are atomic) is treated
// as empty, because every print in it can be computed again; the next Save
// replaces it.
func OpenPrints(file string) (*Prints, error) {
	p := &Prints{file: file, m: map[[32]byte]Print{}}
	if file == "" {
		return p, nil
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read fingerprints %s: %w", file, err)
	}
	if m, ok := decodePrints(data); ok {
		p.m = m
	}
	return p, nil
}

func decodePrints(data []byte) (map[[32]byte]Print, bool) {
	if len(data) < 12 || string(data[:4]) != printsMagic {
		return nil, false
	}
	n := int(binary.LittleEndian.Uint32(data[4:8]))
	if len(data) != 8+n*printsRecord+4 || crc32.ChecksumIEEE(data[:len(data)-4]) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, false
	}
	m := make(map[[32]byte]Print, n)
	for i := range n {
		r := data[8+i*printsRecord:]
		var h [32]byte
		copy(h[:], r)
		var p Print
		p.Whole8 = binary.LittleEndian.Uint64(r[32:])
		for k := range 4 {
			p.Whole16[k] = binary.LittleEndian.Uint64(r[40+8*k:])
			p.Centre16[k] = binary.LittleEndian.Uint64(r[72+8*k:])
		}
		m[h] = p
	}
	return m, true
}

// Get returns the print of the photo with content hash h, if kept.
func (p *Prints) Get(h [32]byte) (Print, bool) {
	pr, ok := p.m[h]
	return pr, ok
}

// Put keeps a photo's print (Save writes it).
func (p *Prints) Put(h [32]byte, pr Print) {
	if old, ok := p.m[h]; !ok || old != pr {
		p.m[h] = pr
		p.dirty = true
	}
}

// Len returns the number of prints kept.
func (p *Prints) Len() int { return len(p.m) }

// Save writes the store atomically when it changed. The file is read
// again first, under its lock (file+".lock"), and the prints another
// process kept since OpenPrints are kept too: the app and the command line
// checking photos at once each add theirs, rather than the last to save
// dropping the other's.
func (p *Prints) Save() error {
	if !p.dirty || p.file == "" {
		return nil
	}
	l, err := filelock.Acquire(context.Background(), p.file+".lock", filelock.Patience)
	if err != nil {
		return fmt.Errorf("save fingerprints %s: %w", p.file, err)
	}
	defer l.Unlock()
	if data, err := os.ReadFile(p.file); err == nil {
		if m, ok := decodePrints(data); ok {
			for h, pr := range m {
				if _, ok := p.m[h]; !ok {
					p.m[h] = pr
				}
			}
		}
	}
	var buf bytes.Buffer
	buf.WriteString(printsMagic)
	binary.Write(&buf, binary.LittleEndian, uint32(len(p.m)))
	var rec [printsRecord]byte
	for h, pr := range p.m {
		copy(rec[:], h[:])
		binary.LittleEndian.PutUint64(rec[32:], pr.Whole8)
		for k := range 4 {
			binary.LittleEndian.PutUint64(rec[40+8*k:], pr.Whole16[k])
			binary.LittleEndian.PutUint64(rec[72+8*k:], pr.Centre16[k])
		}
		buf.Write(rec[:])
	}
	binary.Write(&buf, binary.LittleEndian, crc32.ChecksumIEEE(buf.Bytes()))
	if err := atomicfile.WriteFile(p.file, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("save fingerprints %s: %w", p.file, err)
	}
	p.dirty = false
	return nil
}
