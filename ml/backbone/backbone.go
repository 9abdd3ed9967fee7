// Package backbone loads the InceptionV3 weights that turn photos into
// features, from a Keras .h5 weights file or a TensorFlow.js layers folder,
// together with what the weights alone do not say: which backbone they are
// and how pixels must be scaled for them.
package backbone

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/keras"
	"github.com/clasifica/clasifica/ml/tfjs"
	"google.golang.org/protobuf/proto"
)

// The official Keras ImageNet weights, as keras.applications.InceptionV3
// (weights="imagenet", include_top=False) downloads them. Keras checks the
// file with this MD5 (keras/applications/inception_v3.py); it publishes no
// SHA-256.
const (
	ImageNetID   = "keras-imagenet"
	ImageNetName = "InceptionV3, ImageNet (Keras)"
	ImageNetFile = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
	ImageNetURL  = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + ImageNetFile
	ImageNetMD5  = "bcbd6486424b2319ff4ef7d526e38f63"
)

// The nsfwjs@4.4.0 InceptionV3 (tools/nsfwjs-backbone.js), Clasifica's
// offline test image model: fine-tuned for another task on pixels scaled to
// [0, 1]. NsfwjsWeights is the SHA-256 of its dequantised weights
// (inception.Weights.Hash), the same from its TensorFlow.js folder or a
// Keras .h5 written from it.
const (
	NsfwjsID      = "nsfwjs-inceptionv3"
	NsfwjsName    = "nsfwjs InceptionV3 (test image model)"
	NsfwjsWeights = "9394da95a47a6d07f718fcf0e7279ca3b28b3165b97b01e45f66a1b56e94de7f"
)

// known are the backbones Clasifica recognises from what they are: their
// weights decide their name, their preprocessing and whether they are the
// test model, whatever file or folder they come from and whatever an
// InfoFile beside them says. The ImageNet weights are recognised by the
// MD5 Keras publishes for the file (their weights hash cannot be computed
// where the file cannot be downloaded); a copy in another format is
// recognised once its weights hash is known.
var known = []Info{
	{ID: ImageNetID, Name: ImageNetName, Source: ImageNetURL, Preprocess: inception.KerasImageNet},
	{ID: NsfwjsID, Name: NsfwjsName, Source: "npm:nsfwjs@4.4.0", Preprocess: inception.UnitRange, WeightsSHA256: NsfwjsWeights, Test: true,
		Description: "InceptionV3 fine-tuned for NSFW detection, from the npm package nsfwjs@4.4.0 (uint8-quantised). Its features transfer poorly to other tasks: use it to prove the pipeline offline, not for real classifiers."},
}

// Known returns the known backbone with these weights (a hex
// inception.Weights.Hash), if there is one.
func Known(weightsSHA256 string) (Info, bool) {
	for _, k := range known {
		if k.WeightsSHA256 != "" && k.WeightsSHA256 == weightsSHA256 {
			return k, true
		}
	}
	return Info{}, false
}

// KnownID reports whether id names a known backbone: no other weights may
// take it.
func KnownID(id string) bool {
	for _, k := range known {
		if k.ID == id {
			return true
		}
	}
	return false
}

// InfoFile is the file beside a backbone's weights that records its
// identity and preprocessing.
const InfoFile = "clasifica-backbone.json"

// Info describes a backbone.
type Info struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Description string               `json:"description,omitempty"`
	Source      string               `json:"source,omitempty"`
	Preprocess  inception.Preprocess `json:"preprocess"`
	// SHA256 identifies what the backbone computes: its weights (in a
	// canonical form, the same whichever format they came in) and its
	// preprocessing. Features are cached, and models record their
	// backbone, under it.
	SHA256 string `json:"sha256,omitempty"`
	// WeightsSHA256 is the hash of the weights alone
	// (inception.Weights.Hash), which recognises a known backbone.
	WeightsSHA256 string `json:"weights_sha256,omitempty"`
	// Test marks the offline test model, which must never be presented
	// as ImageNet.
	Test bool `json:"test,omitempty"`
}

// Backbone is a loaded InceptionV3 feature extractor.
type Backbone struct {
	Info
	// Path is the folder or file the weights came from.
	Path    string
	Weights *inception.Weights
	// Ignored counts layers after the backbone in the weights (a
	// classifier top, which a feature extractor does not use).
	Ignored int
}

// Open loads the backbone at path: a TensorFlow.js layers folder (with
// model.json), a Keras .h5 weights file, or a folder holding one .h5 file.
// Known weights (the official ImageNet file, the nsfwjs test model) are
// recognised from what they are, and get their own name and
// preprocessing. Other weights take their identity and preprocessing from
// an InfoFile beside them, or else their file or folder name and Keras
// InceptionV3's preprocessing; they never take a known backbone's id.
func Open(path string) (*Backbone, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open backbone: %w", err)
	}
	var layers []keras.Layer
	var info *Info
	weightsFile := path
	if st.IsDir() {
		if info, err = readInfo(filepath.Join(path, InfoFile)); err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(path, "model.json")); err == nil {
			m, err := tfjs.Read(path)
			if err != nil {
				return nil, fmt.Errorf("open backbone: %w", err)
			}
			if layers, err = m.KerasLayers(); err != nil {
				return nil, fmt.Errorf("open backbone: %w", err)
			}
			weightsFile = ""
		} else {
			h5, _ := filepath.Glob(filepath.Join(path, "*.h5"))
			if len(h5) != 1 {
				return nil, fmt.Errorf("open backbone %s: the folder holds neither model.json (TensorFlow.js) nor one .h5 file (Keras)", path)
			}
			weightsFile = h5[0]
		}
	}
	if weightsFile != "" {
		if layers, err = keras.ReadH5File(weightsFile); err != nil {
			return nil, fmt.Errorf("open backbone: %w", err)
		}
	}
	w, ignored, err := inception.FromKeras(layers)
	if err != nil {
		return nil, fmt.Errorf("open backbone %s: not the InceptionV3 Clasifica needs: %w", path, err)
	}
	h := w.Hash()
	weights := hex.EncodeToString(h[:])
	if k, ok := Known(weights); ok {
		info = &k
	} else if info, err = recognise(info, weightsFile, path); err != nil {
		return nil, err
	}
	info.WeightsSHA256 = weights
	b := &Backbone{Info: *info, Path: path, Weights: w, Ignored: ignored}
	b.SHA256 = Identity(w, b.Preprocess)
	return b, nil
}

// Identity returns the SHA-256, in hex, of a backbone's weights and
// preprocessing.
func Identity(w *inception.Weights, p inception.Preprocess) string {
	return IdentityOf(w.Hash(), p)
}

// IdentityOf is Identity from the weights' hash.
func IdentityOf(h [32]byte, p inception.Preprocess) string {
	var buf [40]byte
	copy(buf[:], h[:])
	binary.LittleEndian.PutUint32(buf[32:], math.Float32bits(p.Scale))
	binary.LittleEndian.PutUint32(buf[36:], math.Float32bits(p.Offset))
	sum := sha256.Sum256(buf[:])
	return hex.EncodeToString(sum[:])
}

func readInfo(path string) (*Info, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open backbone: %w", err)
	}
	var info Info
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("open backbone: %s: %w", path, err)
	}
	if err := info.check(); err != nil {
		return nil, fmt.Errorf("open backbone: %s: %w", path, err)
	}
	return &info, nil
}

func (i *Info) check() error {
	if i.ID == "" || strings.ContainsAny(i.ID, `/\:`) || i.ID == "." || i.ID == ".." {
		return fmt.Errorf("backbone id %q is not a usable name", i.ID)
	}
	p := i.Preprocess
	if p.Scale <= 0 || math.IsInf(float64(p.Scale), 0) || math.IsNaN(float64(p.Offset)) || math.IsInf(float64(p.Offset), 0) {
		return fmt.Errorf("backbone preprocessing %+v is not usable", p)
	}
	return nil
}

// WriteInfo writes info as dir's InfoFile.
func WriteInfo(dir string, info Info) error {
	if err := info.check(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, InfoFile), append(data, '\n'), 0o644)
}

// recognise describes weights that are not known by their hash: the
// official ImageNet file by Keras's checksum, others by their InfoFile
// (never with a known backbone's id or test mark) or their name.
func recognise(info *Info, weightsFile, path string) (*Info, error) {
	if weightsFile != "" {
		sum, err := FileMD5(weightsFile)
		if err != nil {
			return nil, fmt.Errorf("open backbone: %w", err)
		}
		if sum == ImageNetMD5 {
			k := known[0]
			return &k, nil
		}
	}
	if info == nil {
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		info = &Info{ID: sanitizeID(name), Name: name, Source: path, Preprocess: inception.KerasImageNet}
	}
	info.Test = false
	if KnownID(info.ID) {
		// A copy of a known name on other weights (retrained, or
		// converted from another file) is the user's own.
		info.ID += "-own"
		info.Name = "InceptionV3 " + info.ID
	}
	return info, nil
}

// FileMD5 returns the MD5 of a file in hex, the checksum Keras publishes for
// its weight files.
func FileMD5(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sanitizeID(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
	s = strings.Trim(s, ".-")
	if s == "" {
		s = "backbone"
	}
	return s
}

// FeatureModel returns the backbone as a serialised ONNX feature extractor
// (see inception.Model), recording the backbone's identity in its metadata.
func (b *Backbone) FeatureModel() ([]byte, error) {
	meta := map[string]string{"backbone_id": b.ID, "backbone_name": b.Name, "backbone_sha256": b.SHA256}
	m := b.Weights.Model(b.Preprocess, meta, []string{"backbone_id", "backbone_name", "backbone_sha256"})
	data, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("backbone %s: build ONNX model: %w", b.ID, err)
	}
	return data, nil
}
