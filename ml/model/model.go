// Package model reads and writes .clasifica model files: the labels, the
// trained head, the identity of the backbone it was trained on, the
// preprocessing, and a record of the training, in one versioned file.
//
// The file is binary:
//
//	magic     "CLASIFICA MODEL\n" (16 bytes)
//	version   uint32, little-endian
//	meta      uint32 length, then that many bytes of JSON (Meta)
//	tensors   uint32 count, then for each: uint16 name length, name,
//	          uint8 rank, rank × uint32 dimensions, float32 values
//	top       (version 2) uint32 count, then that many tensors as above:
//	          the fine-tuned units of the backbone's top blocks, each a
//	          kernel "conv2d_N/kernel" [KH, KW, In, Out] and an offset
//	          "batch_normalization_N/beta" [Out], float32
//	checksum  SHA-256 of every byte before it
//
// Version 3 has version 2's layout (the top section may hold no tensors)
// and a meta that may carry a confidence threshold (Threshold): a photo
// below it is answered "not sure". Older Clasifica versions would ignore
// the threshold and answer every photo with confidence, so they are told
// to update instead.
//
// Any version's meta may carry the classes' statistics that answer "not
// one of its kinds" (Strangers): a reader that predates them ignores them
// and answers as the model did then, so they raise no version.
//
// Each file is written with the lowest version that holds it: a model
// without fine-tuned blocks or threshold as version 1, which older
// Clasifica versions read; one with fine-tuned blocks as version 2; one
// with a threshold as version 3. The blocks are kept
// in float32: fine-tuning moves weights by about 1e-4 of their size, less
// than float16's resolution, so float16 would undo it. Both blocks add 44
// MB (mixed10 alone 24 MB) to the head's 8 MB.
//
// Files are written atomically (a temporary file renamed over the target),
// so a crash or a cancelled training never leaves a half-written model; and
// they are read strictly, with every length checked against limits, since a
// model file may come from anyone.
package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/clasifica/clasifica/internal/atomicfile"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
)

// Version is the newest format version this package writes. It reads
// every version up to this one.
const Version = 3

// versionHeadOnly is the version written for models without fine-tuned
// blocks or threshold, so that they stay readable by older Clasifica
// versions; versionTop the one for fine-tuned models without threshold.
const (
	versionHeadOnly = 1
	versionTop      = 2
)

// Ext is the model file extension.
const Ext = ".clasifica"

const magic = "CLASIFICA MODEL\n"

// Limits on what a model file may hold, far above what Clasifica writes
// (a 1,000-class head with 4,096 hidden units is about 50 MB).
const (
	maxFile    = 1 << 30
	maxMeta    = 64 << 20
	maxTensors = 64
	maxTop     = 256
	maxValues  = 256 << 20
)

// Model is a trained classifier.
type Model struct {
	Meta
	// Head holds the classifier's layers, first to last.
	Head []head.Dense
	// Top holds the backbone units fine-tuning trained (their kernels and
	// batch normalisation offsets), which replace the backbone's own; nil
	// for a head-only model.
	Top []Unit
}

// Unit is a fine-tuned conv2d_bn unit of the backbone.
type Unit struct {
	// Conv and BN are the Keras layer names (as inception.Unit).
	Conv, BN string
	// Kernel is [KH, KW, In, Out] as Keras stores it; Beta is [Out].
	Kernel, Beta []float32
}

// Apply returns a copy of the backbone weights w with the model's
// fine-tuned units in place of w's (w itself when the model has none).
func (m *Model) Apply(w *inception.Weights) (*inception.Weights, error) {
	if len(m.Top) == 0 {
		return w, nil
	}
	out := &inception.Weights{Units: append([]inception.Unit(nil), w.Units...)}
	index := map[string]int{}
	for i, u := range w.Units {
		index[u.Conv] = i
	}
	for _, t := range m.Top {
		i, ok := index[t.Conv]
		if !ok {
			return nil, fmt.Errorf("model: fine-tuned unit %s is not in the backbone", t.Conv)
		}
		u := out.Units[i]
		if u.BN != t.BN || len(t.Kernel) != len(u.Kernel) || len(t.Beta) != len(u.Beta) {
			return nil, fmt.Errorf("model: fine-tuned unit %s does not match the backbone's shape", t.Conv)
		}
		u.Kernel, u.Beta = t.Kernel, t.Beta
		out.Units[i] = u
	}
	return out, nil
}

// unitShapes returns InceptionV3's conv2d_bn units by convolution name,
// with their shapes (no weights).
func unitShapes() map[string]inception.Unit {
	layers := inception.Layers()
	ch := inception.Channels(layers)
	out := map[string]inception.Unit{}
	for i, l := range layers {
		if l.Kind == inception.Conv {
			out[l.Name] = inception.Unit{Conv: l.Name, BN: layers[i+1].Name, KH: l.KH, KW: l.KW, In: ch[l.Inputs[0]], Out: l.Filters}
		}
	}
	return out
}

// Meta is everything in a model except the head's weights.
type Meta struct {
	// Labels names the classes, in the order of the head's outputs.
	Labels   []string  `json:"labels"`
	Backbone Backbone  `json:"backbone"`
	Created  time.Time `json:"created"`
	// Producer is the program and version that wrote the file.
	Producer string `json:"producer,omitempty"`
	// Training records how the model was trained; nil for a model made
	// some other way.
	Training *Training `json:"training,omitempty"`
	// Threshold is the confidence below which the model answers "not
	// sure"; nil when it has none (files before version 3).
	Threshold *Threshold `json:"threshold,omitempty"`
	// History records the training runs that made the model, oldest
	// first (the last ones: a few hundred bytes).
	History []Run `json:"history,omitempty"`
	// Strangers lets the model answer "not one of its kinds"; nil when it
	// keeps nothing for that (files before it, models made elsewhere).
	Strangers *Strangers `json:"strangers,omitempty"`
}

// Backbone identifies the feature extractor a head was trained on: a head
// is only valid on features from the same weights and preprocessing.
type Backbone struct {
	ID         string               `json:"id"`
	Name       string               `json:"name"`
	SHA256     string               `json:"sha256"`
	Preprocess inception.Preprocess `json:"preprocess"`
	// ImageSize is the side of the square input image.
	ImageSize int `json:"image_size"`
	// Precision is "int8" when the head was trained on features of the
	// backbone's 8-bit model (package quant), which classifying then
	// uses too, so that labels match training; empty for float.
	// Versions that do not know it classify in float: the 8-bit check
	// keeps those features within a cosine of 0.99.
	Precision string `json:"precision,omitempty"`
	// RecheckGap, for a head trained on 8-bit features, is the difference
	// of its two best classes' log-probabilities below which an answer is
	// a close call that 8 bits' rounding might swap: classifying computes
	// such a photo's features again with the float image model (see
	// Clasifica's app package). Zero where not measured.
	RecheckGap float64 `json:"recheck_gap,omitempty"`
	// CloseShare is the share of the photos it was evaluated on whose
	// 8-bit answers were such close calls: where most are, classifying
	// in float throughout is faster.
	CloseShare float64 `json:"close_share,omitempty"`
}

// Training records a training run.
type Training struct {
	Dataset    string          `json:"dataset"`
	Layout     string          `json:"layout,omitempty"`
	Options    Hyperparameters `json:"options"`
	Epochs     []Epoch         `json:"epochs"`
	BestEpoch  int             `json:"best_epoch"`
	TrainCount int             `json:"train_count"`
	ValCount   int             `json:"validation_count"`
	// Test is the held-out test split, for evaluating the model later.
	Test     []Sample `json:"test,omitempty"`
	Duration float64  `json:"seconds"`
}

// TestHashes returns the content hashes of the test photos, sorted: two
// models tested on the same photos have equal lists, wherever the photos
// are.
func (t *Training) TestHashes() []string {
	h := make([]string, len(t.Test))
	for i, s := range t.Test {
		h[i] = s.SHA256
	}
	slices.Sort(h)
	return h
}

// Hyperparameters are the options a head was trained with.
type Hyperparameters struct {
	Epochs         int     `json:"epochs"`
	BatchSize      int     `json:"batch_size"`
	LearningRate   float64 `json:"learning_rate"`
	Hidden         int     `json:"hidden"`
	Dropout        float64 `json:"dropout"`
	LabelSmoothing float64 `json:"label_smoothing"`
	WeightDecay    float64 `json:"weight_decay"`
	Patience       int     `json:"patience"`
	ClassWeights   bool    `json:"class_weights"`
	Augment        int     `json:"augment_views"`
	Validation     float64 `json:"validation"`
	Test           float64 `json:"test"`
	Seed           uint64  `json:"seed"`
	// TargetAccuracy is the accuracy asked of the photos the model
	// answers, which chooses its "not sure" threshold (0: none).
	TargetAccuracy float64 `json:"target_accuracy,omitempty"`
	// FineTune is the number of top inception blocks trained after the
	// head (0: head only; 1: mixed10; 2: mixed9 and mixed10), for up to
	// FineTuneEpochs epochs with SGD (momentum 0.9) at FineTuneLearningRate.
	FineTune             int     `json:"fine_tune,omitempty"`
	FineTuneEpochs       int     `json:"fine_tune_epochs,omitempty"`
	FineTuneLearningRate float64 `json:"fine_tune_learning_rate,omitempty"`
}

// Epoch holds one epoch's metrics. Validation metrics are NaN-free: with no
// validation set they are zero and HasValidation is false.
type Epoch struct {
	Epoch         int     `json:"epoch"`
	Loss          float64 `json:"loss"`
	Accuracy      float64 `json:"accuracy"`
	ValLoss       float64 `json:"val_loss"`
	ValAccuracy   float64 `json:"val_accuracy"`
	HasValidation bool    `json:"has_validation"`
	Seconds       float64 `json:"seconds"`
	// Stage is 1 for the head's training and 2 for fine-tuning; 0 in
	// files from before fine-tuning existed, meaning 1.
	Stage int `json:"stage,omitempty"`
}

// Sample is a photo of a recorded split.
type Sample struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Label  int    `json:"label"`
}

// Validate checks that the model is complete and consistent.
func (m *Model) Validate() error {
	if len(m.Labels) < 2 {
		return fmt.Errorf("model has %d labels, want at least 2", len(m.Labels))
	}
	seen := map[string]bool{}
	for _, l := range m.Labels {
		if l == "" || seen[l] {
			return fmt.Errorf("model labels %q are empty or repeated", m.Labels)
		}
		seen[l] = true
	}
	if m.Backbone.ID == "" || m.Backbone.SHA256 == "" {
		return errors.New("model names no backbone")
	}
	h, err := head.FromLayers(m.Head)
	if err != nil {
		return fmt.Errorf("model head: %w", err)
	}
	if h.Inputs() != inception.Features || h.Classes() != len(m.Labels) {
		return fmt.Errorf("model head maps %d inputs to %d classes, want %d to %d", h.Inputs(), h.Classes(), inception.Features, len(m.Labels))
	}
	shapes := unitShapes()
	seenUnit := map[string]bool{}
	for _, t := range m.Top {
		u, ok := shapes[t.Conv]
		if !ok || u.BN != t.BN || seenUnit[t.Conv] {
			return fmt.Errorf("model fine-tuned unit %q/%q is not an InceptionV3 unit, or is repeated", t.Conv, t.BN)
		}
		seenUnit[t.Conv] = true
		if len(t.Kernel) != u.KH*u.KW*u.In*u.Out || len(t.Beta) != u.Out {
			return fmt.Errorf("model fine-tuned unit %s has %d kernel and %d beta values, want %d and %d", t.Conv, len(t.Kernel), len(t.Beta), u.KH*u.KW*u.In*u.Out, u.Out)
		}
		for _, a := range [][]float32{t.Kernel, t.Beta} {
			for _, v := range a {
				if v-v != 0 {
					return fmt.Errorf("model fine-tuned unit %s holds %v", t.Conv, v)
				}
			}
		}
	}
	if err := m.Threshold.validate(); err != nil {
		return err
	}
	if err := validateHistory(m.History); err != nil {
		return err
	}
	if err := m.Strangers.validate(len(m.Labels)); err != nil {
		return err
	}
	if t := m.Training; t != nil {
		for _, s := range t.Test {
			if s.Label < 0 || s.Label >= len(m.Labels) {
				return fmt.Errorf("model test sample %s has label %d of %d", s.Path, s.Label, len(m.Labels))
			}
		}
	}
	return nil
}

// Write writes m to w.
func (m *Model) Write(w io.Writer) error {
	if err := m.Validate(); err != nil {
		return err
	}
	meta, err := json.Marshal(m.Meta)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(magic)
	version := uint32(versionHeadOnly)
	switch {
	case m.Threshold != nil:
		version = 3
	case len(m.Top) > 0:
		version = versionTop
	}
	binary.Write(&b, binary.LittleEndian, version)
	binary.Write(&b, binary.LittleEndian, uint32(len(meta)))
	b.Write(meta)
	binary.Write(&b, binary.LittleEndian, uint32(2*len(m.Head)))
	for i, l := range m.Head {
		writeTensor(&b, fmt.Sprintf("dense_%d/kernel", i+1), l.Kernel, l.In, l.Out)
		writeTensor(&b, fmt.Sprintf("dense_%d/bias", i+1), l.Bias, l.Out)
	}
	if version >= versionTop {
		shapes := unitShapes()
		binary.Write(&b, binary.LittleEndian, uint32(2*len(m.Top)))
		for _, t := range m.Top {
			u := shapes[t.Conv]
			writeTensor(&b, t.Conv+"/kernel", t.Kernel, u.KH, u.KW, u.In, u.Out)
			writeTensor(&b, t.BN+"/beta", t.Beta, u.Out)
		}
	}
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	_, err = w.Write(b.Bytes())
	return err
}

func writeTensor(b *bytes.Buffer, name string, v []float32, dims ...int) {
	binary.Write(b, binary.LittleEndian, uint16(len(name)))
	b.WriteString(name)
	b.WriteByte(byte(len(dims)))
	for _, d := range dims {
		binary.Write(b, binary.LittleEndian, uint32(d))
	}
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	b.Write(buf)
}

// WriteFile writes m to path atomically: the file is complete and synced
// under a temporary name in the same folder, then renamed over path, so
// path always holds either the previous model or the new one.
func (m *Model) WriteFile(path string) error {
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		return fmt.Errorf("write model %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write model %s: %w", path, err)
	}
	return nil
}

// ReadFile reads the model at path.
func ReadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	if st.Size() > maxFile {
		return nil, fmt.Errorf("read model %s: %d bytes is too large for a model file", path, st.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("read model %s: %w", path, err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("read model %s: %w", path, err)
	}
	return m, nil
}

// ErrNotModel reports a file that is not a Clasifica model at all.
var ErrNotModel = errors.New("not a Clasifica model file")

// ErrCorrupt reports a model file that is damaged (truncated, altered).
var ErrCorrupt = errors.New("the model file is damaged")

// NewerError reports a model file written by a newer version of Clasifica.
type NewerError struct{ Version uint32 }

func (e *NewerError) Error() string {
	return fmt.Sprintf("the model file has format version %d, newer than this Clasifica reads (%d): update Clasifica to open it", e.Version, Version)
}

// Parse decodes a model file's bytes.
func Parse(data []byte) (*Model, error) { return parse(data, true) }

// parse decodes a model; verify=false skips the checksum so that fuzzing
// reaches the decoder behind it.
func parse(data []byte, verify bool) (*Model, error) {
	if len(data) < len(magic) || string(data[:len(magic)]) != magic {
		return nil, ErrNotModel
	}
	r := &reader{b: data[len(magic):]}
	version := r.u32()
	if r.err != nil {
		return nil, ErrCorrupt
	}
	if version == 0 {
		return nil, fmt.Errorf("%w: version 0", ErrCorrupt)
	}
	if version > Version {
		return nil, &NewerError{Version: version}
	}
	if len(data) < len(magic)+4+sha256.Size {
		return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); verify && !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("%w: checksum mismatch (truncated or altered)", ErrCorrupt)
	}
	r.b = r.b[:len(r.b)-sha256.Size]

	m := &Model{}
	metaLen := r.u32()
	if metaLen > maxMeta {
		return nil, fmt.Errorf("%w: metadata of %d bytes", ErrCorrupt, metaLen)
	}
	meta := r.bytes(int(metaLen))
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, r.err)
	}
	if err := json.Unmarshal(meta, &m.Meta); err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", ErrCorrupt, err)
	}
	n := r.u32()
	if n > maxTensors || n%2 != 0 {
		return nil, fmt.Errorf("%w: %d tensors", ErrCorrupt, n)
	}
	total := 0
	for i := range int(n / 2) {
		kernel, kdims, _ := r.tensor(&total)
		bias, bdims, _ := r.tensor(&total)
		if r.err != nil {
			return nil, fmt.Errorf("%w: layer %d: %v", ErrCorrupt, i+1, r.err)
		}
		if len(kdims) != 2 || len(bdims) != 1 || bdims[0] != kdims[1] {
			return nil, fmt.Errorf("%w: layer %d has kernel %v and bias %v", ErrCorrupt, i+1, kdims, bdims)
		}
		act := head.ActivationReLU
		if i == int(n/2)-1 {
			act = head.ActivationSoftmax
		}
		m.Head = append(m.Head, head.Dense{In: kdims[0], Out: kdims[1], Kernel: kernel, Bias: bias, Activation: act})
	}
	if version >= versionTop {
		n := r.u32()
		if n > maxTop || n%2 != 0 {
			return nil, fmt.Errorf("%w: %d fine-tuned tensors", ErrCorrupt, n)
		}
		for i := range int(n / 2) {
			kernel, _, kname := r.tensor(&total)
			beta, _, bname := r.tensor(&total)
			if r.err != nil {
				return nil, fmt.Errorf("%w: fine-tuned unit %d: %v", ErrCorrupt, i+1, r.err)
			}
			conv, okc := strings.CutSuffix(kname, "/kernel")
			bn, okb := strings.CutSuffix(bname, "/beta")
			if !okc || !okb {
				return nil, fmt.Errorf("%w: fine-tuned unit %d has tensors %q and %q", ErrCorrupt, i+1, kname, bname)
			}
			m.Top = append(m.Top, Unit{Conv: conv, BN: bn, Kernel: kernel, Beta: beta})
		}
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d unexpected bytes after the tensors", ErrCorrupt, len(r.b))
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// reader decodes little-endian values, remembering the first error so
// that parsing code reads straight through and checks once.
type reader struct {
	b   []byte
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) tensor(total *int) ([]float32, []int, string) {
	nb := r.bytes(2)
	if nb == nil {
		return nil, nil, ""
	}
	// The name is informative for the head; fine-tuned units are matched
	// by it.
	name := string(r.bytes(int(binary.LittleEndian.Uint16(nb))))
	rank := r.bytes(1)
	if rank == nil {
		return nil, nil, ""
	}
	if rank[0] == 0 || rank[0] > 4 {
		r.err = fmt.Errorf("tensor of rank %d", rank[0])
		return nil, nil, ""
	}
	dims := make([]int, rank[0])
	size := 1
	for i := range dims {
		d := int(r.u32())
		if r.err != nil {
			return nil, nil, ""
		}
		if d == 0 || d > maxValues || size > maxValues/d {
			r.err = fmt.Errorf("tensor dimensions too large")
			return nil, nil, ""
		}
		dims[i] = d
		size *= d
	}
	if *total += size; *total > maxValues {
		r.err = fmt.Errorf("tensors too large")
		return nil, nil, ""
	}
	raw := r.bytes(4 * size)
	if raw == nil {
		return nil, nil, ""
	}
	v := make([]float32, size)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v, dims, name
}
