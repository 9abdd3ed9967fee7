// Package decisions is the record of what a person decided about the
// photos of one folder without editing the folder: a photo counted in
// another class ("this is a dog", wherever the file sits), left out of
// training, confirmed as rightly labelled ("it's right": never suggested
// again), forced into a split, or copied in by Clasifica from elsewhere.
//
// Decisions are keyed by each photo's content hash, so that renaming or
// moving a photo inside the folder keeps them. A Store is plain data: it
// reads and writes its versioned JSON form and answers dataset.Scan's
// questions (it implements dataset.Decisions); where the file lives, and
// writing it atomically, is the application's business.
package decisions

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clasifica/clasifica/ml/dataset"
)

// Version is the version of the file format Encode writes. Decode refuses
// later versions rather than drop what a newer Clasifica recorded.
const Version = 1

// MaxFileBytes bounds the file Decode reads: a record is about 200 bytes,
// so this allows hundreds of thousands of decided photos while refusing a
// file that is not a record.
const MaxFileBytes = 64 << 20

// Schemes name the labellings an override belongs to. The Oxford-IIIT Pet
// dataset is labelled both by breed and by species, and "this is a beagle"
// says nothing about the two-class task; every other layout has one
// labelling, its folders.
const (
	SchemeFolder  = "folder"
	SchemeBreed   = "breed"
	SchemeSpecies = "species"
)

// Scheme returns the labelling a folder of the given layout uses with
// granularity g.
func Scheme(layout dataset.Layout, g dataset.Granularity) string {
	if layout != dataset.OxfordPets {
		return SchemeFolder
	}
	if g == dataset.Species {
		return SchemeSpecies
	}
	return SchemeBreed
}

// Origin says where a photo came from when Clasifica copied it into the
// folder (a correction or a confirmation): an undo may delete such a copy,
// and only if its content is still the same.
type Origin struct {
	// From is the path it was copied from.
	From string `json:"from"`
	// Copied is when.
	Copied time.Time `json:"copied"`
}

// Record is every decision about one photo.
type Record struct {
	// SHA256 is the photo's content hash, in hex: the key.
	SHA256 string `json:"sha256"`
	// Path is where the photo was when last decided about, relative to
	// the folder, with forward slashes; it is for people, not the key.
	Path string `json:"path"`
	// Label is the class the folder gave the photo when last decided
	// about, in the scheme of the last override (for people).
	Label string `json:"label,omitempty"`
	// Override maps a scheme (SchemeFolder, SchemeBreed, SchemeSpecies) to
	// the class the photo counts in.
	Override map[string]string `json:"override,omitempty"`
	// LeaveOut keeps the photo out of training, validation and test.
	LeaveOut bool `json:"leave_out,omitempty"`
	// Right marks the photo's label as confirmed: the label check never
	// suggests it again.
	Right bool `json:"right,omitempty"`
	// Split, if not nil, is the split the photo is forced into.
	Split *dataset.Split `json:"split,omitempty"`
	// Origin, if not nil, says where Clasifica copied the photo from.
	Origin *Origin `json:"origin,omitempty"`
	// Updated is when the record last changed.
	Updated time.Time `json:"updated"`
}

// empty reports that the record decides nothing.
func (r *Record) empty() bool {
	return len(r.Override) == 0 && !r.LeaveOut && !r.Right && r.Split == nil && r.Origin == nil
}

// Pair is two photos that are the same shot, found by the label check.
type Pair struct {
	SHA256     [2]string `json:"sha256"`
	Similarity float64   `json:"similarity"`
}

// file is the JSON form of a Store.
type file struct {
	Version int      `json:"version"`
	Root    string   `json:"root"`
	Photos  []Record `json:"photos"`
	// NearCopies are the near-copy pairs of the last label check or
	// training run.
	NearCopies []Pair `json:"near_copies,omitempty"`
}

// Store holds the decisions about the photos of one folder. Its zero value
// is not usable; use New or Decode. A Store is not safe for concurrent
// use.
type Store struct {
	// Root is the folder the decisions are about.
	Root    string
	records map[[32]byte]*Record
	pairs   []Pair
	hashes  [][2][32]byte // pairs, parsed
}

// New returns an empty store for the folder root.
func New(root string) *Store {
	return &Store{Root: root, records: map[[32]byte]*Record{}}
}

// FormatError reports a file that is not a decision record Clasifica can
// read: damaged, or written by a later version.
type FormatError struct {
	// Version is the file's format version, 0 when it could not be read.
	Version int
	// Err says what is wrong.
	Err error
}

func (e *FormatError) Error() string {
	if e.Version > Version {
		return fmt.Sprintf("written by a later version of Clasifica (format %d; this version reads up to %d)", e.Version, Version)
	}
	return fmt.Sprintf("damaged decision record: %v", e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// Decode reads a store written by Encode. Anything else, including a
// record of a later format version, is a *FormatError: the caller keeps
// such a file aside instead of overwriting what it cannot read.
func Decode(r io.Reader) (*Store, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, &FormatError{Err: fmt.Errorf("larger than %d bytes", MaxFileBytes)}
	}
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, &FormatError{Err: err}
	}
	if head.Version > Version {
		return nil, &FormatError{Version: head.Version, Err: errors.New("later format version")}
	}
	if head.Version < 1 {
		return nil, &FormatError{Version: head.Version, Err: fmt.Errorf("format version %d is not one Clasifica wrote", head.Version)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, &FormatError{Version: head.Version, Err: err}
	}
	s := New(f.Root)
	for i, rec := range f.Photos {
		h, err := ParseHash(rec.SHA256)
		if err != nil {
			return nil, &FormatError{Version: f.Version, Err: fmt.Errorf("photo %d: %w", i+1, err)}
		}
		for scheme, label := range rec.Override {
			if err := checkLabel(label); err != nil || (scheme != SchemeFolder && scheme != SchemeBreed && scheme != SchemeSpecies) {
				return nil, &FormatError{Version: f.Version, Err: fmt.Errorf("photo %d: override %q: %q is not a usable class", i+1, scheme, label)}
			}
		}
		if _, dup := s.records[h]; dup {
			return nil, &FormatError{Version: f.Version, Err: fmt.Errorf("photo %s is recorded twice", rec.SHA256)}
		}
		r := rec
		s.records[h] = &r
	}
	if err := s.SetNearCopies(f.NearCopies); err != nil {
		return nil, &FormatError{Version: f.Version, Err: err}
	}
	return s, nil
}

// SetNearCopies replaces the near-copy pairs with those of a new label
// check. Scans keep the two photos of each pair on one side of the
// training/test divide (see dataset.NearCopies).
func (s *Store) SetNearCopies(pairs []Pair) error {
	hashes := make([][2][32]byte, len(pairs))
	for i, p := range pairs {
		for k := range 2 {
			h, err := ParseHash(p.SHA256[k])
			if err != nil {
				return fmt.Errorf("near-copy pair %d: %w", i+1, err)
			}
			hashes[i][k] = h
		}
	}
	s.pairs, s.hashes = slices.Clone(pairs), hashes
	return nil
}

// AddNearCopies records near-copy pairs found by a label check or a
// training run beside those recorded before (a pair already recorded gets
// the new similarity). Pairs are never dropped this way: a check or a run
// sees only the photos it uses (not, say, a training copy a scan left out
// for its recorded pair, nor pairs the user confirmed both photos of), and
// dropping what it did not see would let a pair straddle the
// training/test divide again at the next scan.
func (s *Store) AddNearCopies(pairs []Pair) error {
	key := func(p Pair) [2]string {
		if p.SHA256[1] < p.SHA256[0] {
			return [2]string{p.SHA256[1], p.SHA256[0]}
		}
		return p.SHA256
	}
	merged := slices.Clone(s.pairs)
	at := make(map[[2]string]int, len(merged))
	for i, p := range merged {
		at[key(p)] = i
	}
	for _, p := range pairs {
		if i, ok := at[key(p)]; ok {
			merged[i].Similarity = p.Similarity
			continue
		}
		at[key(p)] = len(merged)
		merged = append(merged, p)
	}
	return s.SetNearCopies(merged)
}

// NearCopies implements dataset.NearCopies.
func (s *Store) NearCopies() [][2][32]byte { return s.hashes }

// Pairs returns the near-copy pairs.
func (s *Store) Pairs() []Pair { return slices.Clone(s.pairs) }

// Encode writes the store as indented JSON, photos in path order so that
// the file reads well and changes little between writes.
func (s *Store) Encode(w io.Writer) error {
	f := file{Version: Version, Root: s.Root, Photos: make([]Record, 0, len(s.records)), NearCopies: s.pairs}
	for _, r := range s.Records() {
		f.Photos = append(f.Photos, r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

// Records returns every record, ordered by path and then hash.
func (s *Store) Records() []Record {
	out := make([]Record, 0, len(s.records))
	for _, r := range s.records {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Record) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.SHA256, b.SHA256))
	})
	return out
}

// Len returns the number of photos with a decision.
func (s *Store) Len() int { return len(s.records) }

// Empty reports that the store holds nothing: no decisions, no pairs.
func (s *Store) Empty() bool { return len(s.records) == 0 && len(s.pairs) == 0 }

// Get returns the record of the photo with content hash h.
func (s *Store) Get(h [32]byte) (Record, bool) {
	r, ok := s.records[h]
	if !ok {
		return Record{}, false
	}
	return *r, true
}

// Photo identifies a photo being decided about: its content hash, where it
// is now (relative to the folder) and the class the folder gives it in the
// scheme in use.
type Photo struct {
	Hash   [32]byte
	Path   string
	Label  string
	Scheme string
}

// record returns p's record, created if new, with its path and label
// brought up to date.
func (s *Store) record(p Photo, now time.Time) *Record {
	r, ok := s.records[p.Hash]
	if !ok {
		r = &Record{SHA256: hex.EncodeToString(p.Hash[:])}
		s.records[p.Hash] = r
	}
	if p.Path != "" {
		r.Path = p.Path
	}
	if p.Label != "" {
		r.Label = p.Label
	}
	r.Updated = now
	return r
}

// tidy drops a record that no longer decides anything.
func (s *Store) tidy(h [32]byte) {
	if r, ok := s.records[h]; ok && r.empty() {
		delete(s.records, h)
	}
}

// Relabel makes p count in class kind in p.Scheme. Relabelling a photo to
// the class its folder gives removes the override.
func (s *Store) Relabel(p Photo, kind string, now time.Time) error {
	if err := checkLabel(kind); err != nil {
		return err
	}
	r := s.record(p, now)
	if kind == p.Label {
		delete(r.Override, p.Scheme)
	} else {
		if r.Override == nil {
			r.Override = map[string]string{}
		}
		r.Override[p.Scheme] = kind
	}
	if len(r.Override) == 0 {
		r.Override = nil
	}
	s.tidy(p.Hash)
	return nil
}

// SetLeaveOut keeps p out of (or, with out false, back in) the dataset.
func (s *Store) SetLeaveOut(p Photo, out bool, now time.Time) {
	s.record(p, now).LeaveOut = out
	s.tidy(p.Hash)
}

// SetRight marks p's label as confirmed (or, with right false, no longer).
func (s *Store) SetRight(p Photo, right bool, now time.Time) {
	s.record(p, now).Right = right
	s.tidy(p.Hash)
}

// ForceSplit puts p into split sp; nil lets the folder and the shares
// decide again.
func (s *Store) ForceSplit(p Photo, sp *dataset.Split, now time.Time) {
	r := s.record(p, now)
	if sp != nil {
		v := *sp
		sp = &v
	}
	r.Split = sp
	s.tidy(p.Hash)
}

// SetOrigin records that Clasifica copied p into the folder from path from.
func (s *Store) SetOrigin(p Photo, from string, now time.Time) {
	s.record(p, now).Origin = &Origin{From: from, Copied: now}
}

// Forget drops every decision about the photo with content hash h and
// reports whether there was any.
func (s *Store) Forget(h [32]byte) bool {
	_, ok := s.records[h]
	delete(s.records, h)
	return ok
}

// Right reports whether the photo with content hash h was confirmed as
// rightly labelled.
func (s *Store) Right(h [32]byte) bool {
	r, ok := s.records[h]
	return ok && r.Right
}

// Decide implements dataset.Decisions: the override of the scheme the
// layout and granularity use, leave out and the forced split. "It's right"
// and the origin do not change what a scan finds.
func (s *Store) Decide(h [32]byte, layout dataset.Layout, g dataset.Granularity) (dataset.Decision, bool) {
	r, ok := s.records[h]
	if !ok {
		return dataset.Decision{}, false
	}
	d := dataset.Decision{Label: r.Override[Scheme(layout, g)], LeaveOut: r.LeaveOut, CopiedIn: r.Origin != nil}
	if r.Split != nil {
		d.Split, d.Forced = *r.Split, true
	}
	return d, d != dataset.Decision{}
}

// checkLabel refuses class names that cannot be a class: empty, not
// valid text, or holding characters that cannot be a folder's name.
func checkLabel(kind string) error {
	switch {
	case strings.TrimSpace(kind) == "":
		return errors.New("a kind needs a name")
	case !utf8.ValidString(kind):
		return fmt.Errorf("kind %q is not valid text", kind)
	case strings.ContainsAny(kind, "/\\\x00") || kind == "." || kind == "..":
		return fmt.Errorf("kind %q cannot hold / or \\ (it may become a folder's name)", kind)
	case len(kind) > 255:
		return fmt.Errorf("kind name is longer than 255 bytes")
	}
	return nil
}

// ParseHash reads a content hash written in hex, as records hold it.
func ParseHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("%q is not a SHA-256 in hex", s)
	}
	copy(h[:], b)
	return h, nil
}

// Put sets the record of the photo with content hash h, replacing any;
// with ok false it removes it. Undo uses it to restore a record exactly as
// it was.
func (s *Store) Put(h [32]byte, r Record, ok bool) {
	if !ok {
		delete(s.records, h)
		return
	}
	r.SHA256 = hex.EncodeToString(h[:])
	s.records[h] = &r
}

// CopiedInNames implements dataset.CopiedIn: the file names of the photos
// Clasifica copied into the folder.
func (s *Store) CopiedInNames() map[string]bool {
	out := map[string]bool{}
	for _, r := range s.records {
		if r.Origin != nil && r.Path != "" {
			out[path.Base(r.Path)] = true
		}
	}
	return out
}
