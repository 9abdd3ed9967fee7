// Package hdf5 reads the subset of HDF5 that Keras and h5py write: groups,
// numeric datasets (contiguous, compact or chunked, with the deflate,
// shuffle and Fletcher-32 filters) and attributes holding numbers or
// strings.
//
// The reader is meant for untrusted files. Every address and length is
// checked against the file size and against limits on what a value may
// allocate; loops in the file's structures are detected; and every feature
// outside the subset is reported as an error that wraps
// errors.ErrUnsupported and names the feature and the object, instead of
// being misread.
//
// Supported: superblock versions 0 to 3, found at offset 0 or at a power of
// two from 512 on (a user block); object header versions 1 and 2 with
// continuation blocks; groups kept in symbol tables (version 1 B-trees and
// local heaps) or in link messages, compact or dense (fractal heap and
// version 2 B-tree); attributes in the object header or in dense storage;
// data layout message versions 3 and 4 (compact, contiguous and chunked with
// a version 1 B-tree, single-chunk, implicit, fixed-array, extensible-array
// or version 2 B-tree chunk index); IEEE floating point of 2, 4 and 8 bytes
// and integers of 1, 2, 4 and 8 bytes in either byte order; fixed-length and
// variable-length strings (global heap).
package hdf5

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// ErrNotFound is wrapped by the errors that report a missing group member
// or attribute.
var ErrNotFound = errors.New("not found")

// DefaultMaxValueBytes is the MaxValueBytes that Open uses.
const DefaultMaxValueBytes = 1 << 30

// Limits bounds what reading a file may allocate.
type Limits struct {
	// MaxValueBytes is the largest dataset or attribute value, in bytes in
	// its stored datatype, that may be read; it also bounds what reading one
	// value may take from heaps and decompress. Zero means
	// DefaultMaxValueBytes.
	MaxValueBytes int64
}

// A File is an open HDF5 file. Its methods may be called concurrently if
// the io.ReaderAt it reads allows concurrent ReadAt calls, as *os.File does.
type File struct {
	r       io.ReaderAt
	size    int64
	base    uint64 // absolute offset of address 0
	offSize int    // bytes in an address
	lenSize int    // bytes in a length
	super   int    // superblock version
	maxVal  int64
	root    *Group
}

// Open reads the superblock and root group of the HDF5 file held by r,
// which is size bytes long, with the default Limits.
func Open(r io.ReaderAt, size int64) (*File, error) {
	return OpenLimits(r, size, Limits{})
}

// OpenLimits is like Open with the given limits.
func OpenLimits(r io.ReaderAt, size int64, lim Limits) (*File, error) {
	if size < 0 {
		return nil, errors.New("hdf5: negative file size")
	}
	f := &File{r: r, size: size, maxVal: lim.MaxValueBytes}
	if f.maxVal <= 0 {
		f.maxVal = DefaultMaxValueBytes
	}
	rootAddr, err := f.readSuperblock()
	if err != nil {
		return nil, fmt.Errorf("hdf5: %w", err)
	}
	oh, err := f.readObjectHeader(rootAddr)
	if err != nil {
		return nil, wrapErr(err, "group", "/")
	}
	if !oh.isGroup() {
		return nil, errors.New("hdf5: root object is not a group")
	}
	f.root = &Group{f: f, path: "/", oh: oh}
	return f, nil
}

// SuperblockVersion reports the version of the file's superblock (0 to 3).
func (f *File) SuperblockVersion() int { return f.super }

// Root returns the root group, "/".
func (f *File) Root() *Group { return f.root }

// A Group is a group of the file: named links to groups and datasets, and
// attributes.
type Group struct {
	f    *File
	path string
	oh   *objectHeader

	once  sync.Once
	links []link
	index map[string]int // first link of each name
	err   error
}

// Name returns the group's path from the root, such as "/" or "/a/b".
func (g *Group) Name() string { return g.path }

func (g *Group) loadLinks() ([]link, error) {
	g.once.Do(func() {
		g.links, g.err = g.f.readLinks(g.oh)
		if g.err != nil {
			g.err = wrapErr(g.err, "group", g.path)
			return
		}
		g.index = make(map[string]int, len(g.links))
		for i, l := range g.links {
			if _, dup := g.index[l.name]; !dup {
				g.index[l.name] = i
			}
		}
	})
	return g.links, g.err
}

// Members returns the names of the group's links (its members), sorted.
func (g *Group) Members() ([]string, error) {
	links, err := g.loadLinks()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(links))
	for i, l := range links {
		names[i] = l.name
	}
	sort.Strings(names)
	return names, nil
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// maxPathComponents bounds the paths that Group and Dataset follow.
const maxPathComponents = 256

// open follows path from g and returns the object header it ends at and
// its full path.
func (g *Group) open(path string) (*objectHeader, string, error) {
	cur := g
	if strings.HasPrefix(path, "/") {
		cur = g.f.root
		path = strings.TrimLeft(path, "/")
	}
	if path == "" {
		return cur.oh, cur.path, nil
	}
	parts := strings.Split(path, "/")
	if len(parts) > maxPathComponents {
		return nil, "", fmt.Errorf("hdf5: path %q has more than %d components", path, maxPathComponents)
	}
	for i, name := range parts {
		if name == "" {
			return nil, "", fmt.Errorf("hdf5: path %q has an empty component", path)
		}
		links, err := cur.loadLinks()
		if err != nil {
			return nil, "", err
		}
		var l *link
		if j, ok := cur.index[name]; ok {
			l = &links[j]
		}
		full := join(cur.path, name)
		if l == nil {
			return nil, "", &pathError{kind: "group", path: cur.path, err: fmt.Errorf("member %q %w", name, ErrNotFound)}
		}
		if l.kind != linkHard {
			return nil, "", &pathError{kind: "link", path: full, err: unsupported("%s", l.kindName())}
		}
		oh, err := g.f.readObjectHeader(l.addr)
		if err != nil {
			return nil, "", wrapErr(err, "object", full)
		}
		if i == len(parts)-1 {
			return oh, full, nil
		}
		if !oh.isGroup() {
			return nil, "", fmt.Errorf("hdf5: %s is not a group", full)
		}
		cur = &Group{f: g.f, path: full, oh: oh}
	}
	panic("unreachable")
}

// Group returns the group at path, which is relative to g unless it starts
// with "/"; its components are separated by "/".
func (g *Group) Group(path string) (*Group, error) {
	oh, full, err := g.open(path)
	if err != nil {
		return nil, err
	}
	if oh == g.oh && full == g.path {
		return g, nil
	}
	if !oh.isGroup() {
		return nil, fmt.Errorf("hdf5: %s is not a group", full)
	}
	return &Group{f: g.f, path: full, oh: oh}, nil
}

// Dataset returns the dataset at path, which is relative to g unless it
// starts with "/"; its components are separated by "/".
func (g *Group) Dataset(path string) (*Dataset, error) {
	oh, full, err := g.open(path)
	if err != nil {
		return nil, err
	}
	if !oh.isDataset() {
		return nil, fmt.Errorf("hdf5: %s is not a dataset", full)
	}
	d, err := g.f.newDataset(oh, full)
	if err != nil {
		return nil, wrapErr(err, "dataset", full)
	}
	return d, nil
}

// Attrs returns the group's attributes, sorted by name.
func (g *Group) Attrs() ([]*Attribute, error) { return g.f.attrs(g.oh, "group", g.path) }

// Attr returns the group's attribute with the given name; the error wraps
// ErrNotFound if there is none.
func (g *Group) Attr(name string) (*Attribute, error) {
	return g.f.attr(g.oh, "group", g.path, name)
}

// A Dataset is an n-dimensional array of values of one datatype.
type Dataset struct {
	f     *File
	path  string
	oh    *objectHeader
	space dataspace
	dt    datatype
	lay   layout
	pipe  []filter
	fill  []byte // fill value, nil for zeros
}

// Name returns the dataset's path from the root, such as "/a/b".
func (d *Dataset) Name() string { return d.path }

// Shape returns the dataset's dimensions; it is empty for a scalar
// dataset.
func (d *Dataset) Shape() []int { return d.space.intShape() }

// Len returns the number of elements, the product of the dimensions.
func (d *Dataset) Len() int { return int(d.space.n) }

// Datatype describes the dataset's datatype, such as "float32 little-endian".
func (d *Dataset) Datatype() string { return d.dt.String() }

// Attrs returns the dataset's attributes, sorted by name.
func (d *Dataset) Attrs() ([]*Attribute, error) { return d.f.attrs(d.oh, "dataset", d.path) }

// Attr returns the dataset's attribute with the given name; the error
// wraps ErrNotFound if there is none.
func (d *Dataset) Attr(name string) (*Attribute, error) {
	return d.f.attr(d.oh, "dataset", d.path, name)
}

func (d *Dataset) raw() ([]byte, error) {
	b, err := d.read()
	if err != nil {
		return nil, wrapErr(err, "dataset", d.path)
	}
	return b, nil
}

// Float32s reads the dataset's values, in row-major order, as float32.
// Floating-point values are rounded to the nearest float32; integers are
// converted.
func (d *Dataset) Float32s() ([]float32, error) {
	if !d.dt.numeric() {
		return nil, wrapErr(errConvert(&d.dt, "numbers"), "dataset", d.path)
	}
	if v, ok, err := d.contiguousFloat32s(); ok {
		return v, wrapErr(err, "dataset", d.path)
	}
	b, err := d.raw()
	if err != nil {
		return nil, err
	}
	v, err := d.dt.float32s(b, d.space.n)
	return v, wrapErr(err, "dataset", d.path)
}

// Float64s reads the dataset's numeric values, in row-major order, as
// float64.
func (d *Dataset) Float64s() ([]float64, error) {
	if !d.dt.numeric() {
		return nil, wrapErr(errConvert(&d.dt, "numbers"), "dataset", d.path)
	}
	b, err := d.raw()
	if err != nil {
		return nil, err
	}
	v, err := d.dt.float64s(b, d.space.n)
	return v, wrapErr(err, "dataset", d.path)
}

// Int64s reads the dataset's integer values, in row-major order.
func (d *Dataset) Int64s() ([]int64, error) {
	if d.dt.class != classFixed {
		return nil, wrapErr(errConvert(&d.dt, "integers"), "dataset", d.path)
	}
	b, err := d.raw()
	if err != nil {
		return nil, err
	}
	v, err := d.dt.int64s(b, d.space.n)
	return v, wrapErr(err, "dataset", d.path)
}

// Strings reads the dataset's string values, in row-major order.
func (d *Dataset) Strings() ([]string, error) {
	if d.dt.class != classString && d.dt.class != classVlen {
		return nil, wrapErr(errConvert(&d.dt, "strings"), "dataset", d.path)
	}
	b, err := d.raw()
	if err != nil {
		return nil, err
	}
	v, err := d.f.strings(&d.dt, b, d.space.n)
	return v, wrapErr(err, "dataset", d.path)
}

// An Attribute is a small named value attached to a group or dataset.
type Attribute struct {
	f     *File
	name  string
	where string // "group /a" or "dataset /a/b"
	space dataspace
	dt    datatype
	data  []byte
}

// Name returns the attribute's name.
func (a *Attribute) Name() string { return a.name }

// Shape returns the attribute's dimensions; it is empty for a scalar.
func (a *Attribute) Shape() []int { return a.space.intShape() }

// Len returns the number of elements, the product of the dimensions.
func (a *Attribute) Len() int { return int(a.space.n) }

// Datatype describes the attribute's datatype, such as "variable-length
// UTF-8 string".
func (a *Attribute) Datatype() string { return a.dt.String() }

func (a *Attribute) wrap(err error) error {
	if err == nil {
		return nil
	}
	return wrapErr(err, "attribute", fmt.Sprintf("%q of %s", a.name, a.where))
}

// Strings returns the attribute's string values, in row-major order. Fixed-
// length strings lose their padding.
func (a *Attribute) Strings() ([]string, error) {
	v, err := a.f.strings(&a.dt, a.data, a.space.n)
	return v, a.wrap(err)
}

// Float32s returns the attribute's numeric values as float32.
func (a *Attribute) Float32s() ([]float32, error) {
	v, err := a.dt.float32s(a.data, a.space.n)
	return v, a.wrap(err)
}

// Float64s returns the attribute's numeric values as float64.
func (a *Attribute) Float64s() ([]float64, error) {
	v, err := a.dt.float64s(a.data, a.space.n)
	return v, a.wrap(err)
}

// Int64s returns the attribute's integer values.
func (a *Attribute) Int64s() ([]int64, error) {
	v, err := a.dt.int64s(a.data, a.space.n)
	return v, a.wrap(err)
}
