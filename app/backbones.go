package app

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/internal/ctxio"
	"github.com/clasifica/clasifica/internal/filelock"
	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
)

// Backbones is the store of installed backbones: one folder per backbone,
// named by its id, holding its weights, its backbone.InfoFile (with the
// SHA-256 filled in) and the ONNX feature model built from the weights.
type Backbones struct {
	Dir string
}

// featureModelFile caches the ONNX graph built from the weights, so that
// classifying does not rebuild it.
const featureModelFile = "features.onnx"

// ErrNoBackbone reports that no backbone is installed.
var ErrNoBackbone = errors.New("no backbone is installed: Clasifica downloads the ImageNet InceptionV3 weights on first use; " +
	"offline, get " + backbone.ImageNetFile + " from " + backbone.ImageNetURL + " and run `clasifica backbone import FILE`")

// Installed is a backbone in the store.
type Installed struct {
	backbone.Info
	Dir string
	// Note, when set, says how this backbone differs from the one a model
	// was trained on (Find): the same weights with the preprocessing the
	// model recorded rather than their own.
	Note string `json:"-"`
	// recorded marks such a backbone: its feature model is built with the
	// model's preprocessing and cached apart from the backbone's own.
	recorded bool
}

// Offline reports whether this is the offline test backbone, which must
// never be mistaken for real ImageNet weights: recognised by its weights.
func (i Installed) Offline() bool {
	return i.Test || i.WeightsSHA256 == backbone.NsfwjsWeights || i.ID == OfflineBackboneID
}

// featurePath is where the feature model of in is cached.
func (in Installed) featurePath() string {
	if in.recorded {
		return filepath.Join(in.Dir, "features-"+short(in.SHA256)+".onnx")
	}
	return filepath.Join(in.Dir, featureModelFile)
}

// OfflineBackboneID is the nsfwjs InceptionV3 converted by `make deps`: a
// real, trained InceptionV3 available offline, tuned for another task.
const OfflineBackboneID = "nsfwjs-inceptionv3"

// List returns the installed backbones, ImageNet first.
func (s *Backbones) List() ([]Installed, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backbones: %w", err)
	}
	var out []Installed
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		in, err := s.Get(e.Name())
		if err != nil {
			continue // a broken or half-removed entry is not installed
		}
		if in.WeightsSHA256 == "" {
			if in, err = s.upgrade(in); err != nil {
				continue
			}
		}
		if !slices.ContainsFunc(out, func(o Installed) bool { return o.ID == in.ID }) {
			out = append(out, in)
		}
	}
	slices.SortFunc(out, func(a, b Installed) int {
		if (a.ID == backbone.ImageNetID) != (b.ID == backbone.ImageNetID) {
			if a.ID == backbone.ImageNetID {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Get returns the installed backbone id.
func (s *Backbones) Get(id string) (Installed, error) {
	dir := filepath.Join(s.Dir, id)
	data, err := os.ReadFile(filepath.Join(dir, backbone.InfoFile))
	if err != nil {
		return Installed{}, fmt.Errorf("backbone %s is not installed", id)
	}
	var info backbone.Info
	if err := json.Unmarshal(data, &info); err != nil || info.SHA256 == "" || info.ID != id {
		return Installed{}, fmt.Errorf("backbone %s: its %s is damaged; import it again", id, backbone.InfoFile)
	}
	return Installed{Info: info, Dir: dir}, nil
}

// Find returns the installed backbone a model was trained on, matching
// the SHA-256, or an error saying which backbone to install.
func (s *Backbones) Find(ref model.Backbone) (Installed, error) {
	all, err := s.List()
	if err != nil {
		return Installed{}, err
	}
	for _, in := range all {
		if in.SHA256 == ref.SHA256 {
			return in, nil
		}
	}
	// The same weights with another preprocessing: a model trained before
	// Clasifica recognised the weights (the nsfwjs weights imported from a
	// plain TensorFlow.js folder got Keras's [-1, 1] instead of their own
	// [0, 1]). It runs as trained, with the preprocessing it recorded.
	for _, in := range all {
		h, err := hex.DecodeString(in.WeightsSHA256)
		if err != nil || len(h) != 32 || backbone.IdentityOf([32]byte(h), ref.Preprocess) != ref.SHA256 {
			continue
		}
		own := in.Preprocess
		in.Preprocess, in.SHA256, in.recorded = ref.Preprocess, ref.SHA256, true
		in.Note = fmt.Sprintf("This model was trained on %s with its pixels scaled to %s, not the %s these weights were made for "+
			"(an earlier Clasifica chose that). It still sorts photos as it did; train it again for better results.",
			in.Name, pixelRange(ref.Preprocess), pixelRange(own))
		return in, nil
	}
	how := "import it with `clasifica backbone import FILE_OR_FOLDER`"
	if ref.ID == backbone.ImageNetID {
		how = "run `clasifica backbone download` (or, offline, get " + backbone.ImageNetFile + " and run `clasifica backbone import FILE`)"
	} else if ref.ID == OfflineBackboneID {
		how = "run `make deps` and `clasifica backbone import .deps/backbones/nsfwjs-inceptionv3`"
	}
	return Installed{}, fmt.Errorf("this model was trained on the backbone %q (id %s, SHA-256 %s), which is not installed: %s", ref.Name, ref.ID, short(ref.SHA256), how)
}

// OnTestModel reports whether a model was trained on the test model's
// weights (the nsfwjs InceptionV3), with whatever preprocessing: models
// record their backbone's identity, which is the weights' hash and the
// preprocessing hashed together.
func OnTestModel(b model.Backbone) bool {
	if b.ID == OfflineBackboneID {
		return true
	}
	h, err := hex.DecodeString(backbone.NsfwjsWeights)
	return err == nil && len(h) == 32 && backbone.IdentityOf([32]byte(h), b.Preprocess) == b.SHA256
}

// PreprocessNote says, for a model trained on known weights with another
// preprocessing than theirs (the nsfwjs weights imported by an earlier
// Clasifica with Keras's), that results are worse than they need be; ""
// otherwise.
func PreprocessNote(b model.Backbone) string {
	if !OnTestModel(b) || b.Preprocess == inception.UnitRange {
		return ""
	}
	return fmt.Sprintf("It was also trained with its pixels scaled to %s, not the %s these weights were made for "+
		"(an earlier Clasifica chose that): train it again for better results.", pixelRange(b.Preprocess), pixelRange(inception.UnitRange))
}

// pixelRange says what a preprocessing maps pixels 0-255 to.
func pixelRange(p inception.Preprocess) string {
	return fmt.Sprintf("[%.3g, %.3g]", p.Offset, float64(p.Offset)+255*float64(p.Scale))
}

// upgrade recognises an entry installed before backbones recorded their
// weights' hash. Its hash is recorded; known weights installed under
// another name or preprocessing (the nsfwjs weights from a plain
// TensorFlow.js folder) are installed again as what they are, and the old
// entry goes: models trained on it still find the weights (Find).
func (s *Backbones) upgrade(in Installed) (Installed, error) {
	// Under the store's lock: two Clasificas starting at once would each
	// install the entry again, and one remove the folder the other reads.
	l, err := lockFile(s.Dir, 0, "installing a backbone")
	if err != nil {
		return Installed{}, err
	}
	defer l.Unlock()
	now, err := s.Get(in.ID)
	switch {
	case err != nil:
		// Installed again under its own name by another Clasifica,
		// meanwhile: listed from its new folder.
		return Installed{}, err
	case now.WeightsSHA256 != "":
		return now, nil // recorded by another Clasifica meanwhile
	}
	b, err := backbone.Open(in.Dir)
	if err != nil {
		return Installed{}, err
	}
	if _, ok := backbone.Known(b.WeightsSHA256); ok && (b.ID != in.ID || b.Preprocess != in.Preprocess) {
		fixed, err := s.importLocked(context.Background(), in.Dir, b)
		if err != nil {
			return Installed{}, err
		}
		if fixed.Dir != in.Dir {
			_ = os.RemoveAll(in.Dir)
		}
		return fixed, nil
	}
	if backbone.Identity(b.Weights, in.Preprocess) != in.SHA256 {
		return Installed{}, fmt.Errorf("backbone %s changed on disk; import it again", in.ID)
	}
	in.WeightsSHA256 = b.WeightsSHA256
	if err := writeInfo(in); err != nil {
		return Installed{}, err
	}
	return in, nil
}

// writeInfo rewrites an installed backbone's InfoFile, atomically.
func writeInfo(in Installed) error {
	data, err := json.MarshalIndent(in.Info, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(in.Dir, backbone.InfoFile), append(data, '\n'), 0o644)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// Default returns the backbone to use: preferred if installed, else the
// ImageNet backbone, else the first installed.
func (s *Backbones) Default(preferred string) (Installed, error) {
	if preferred != "" {
		if in, err := s.Get(preferred); err == nil {
			return in, nil
		}
	}
	all, err := s.List()
	if err != nil {
		return Installed{}, err
	}
	if len(all) == 0 {
		return Installed{}, ErrNoBackbone
	}
	return all[0], nil
}

// Import checks that src (a Keras .h5 file, a TensorFlow.js layers folder,
// or a folder holding one .h5) holds a complete InceptionV3 and installs a
// copy. Importing a backbone that is already installed changes nothing.
// Cancelling ctx stops the import between its steps (reading and checking
// the weights, copying them, building the graph) and while copying; nothing
// is installed then. Imports into one store run one at a time across
// Clasifica processes: an import waits (until ctx ends) for another's,
// and finds the backbone installed if it was the same.
func (s *Backbones) Import(ctx context.Context, src string) (Installed, error) {
	b, err := backbone.Open(src)
	if err != nil {
		return Installed{}, err
	}
	if err := ctx.Err(); err != nil {
		return Installed{}, err
	}
	l, err := filelock.Acquire(ctx, lockPath(s.Dir), 0)
	if err != nil {
		return Installed{}, fmt.Errorf("import backbone %s: %w", src, err)
	}
	defer l.Unlock()
	return s.importLocked(ctx, src, b)
}

// importLocked is Import of b, read from src, with the store's lock held.
func (s *Backbones) importLocked(ctx context.Context, src string, b *backbone.Backbone) (Installed, error) {
	if in, err := s.Get(b.ID); err == nil && in.SHA256 == b.SHA256 {
		return in, nil
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return Installed{}, fmt.Errorf("import backbone: %w", err)
	}
	tmp, err := os.MkdirTemp(s.Dir, ".import-*")
	if err != nil {
		return Installed{}, fmt.Errorf("import backbone: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := copyWeights(ctx, src, tmp); err != nil {
		return Installed{}, fmt.Errorf("import backbone %s: %w", src, err)
	}
	if err := backbone.WriteInfo(tmp, b.Info); err != nil {
		return Installed{}, fmt.Errorf("import backbone %s: %w", src, err)
	}
	if err := ctx.Err(); err != nil {
		return Installed{}, err
	}
	onnx, err := b.FeatureModel()
	if err != nil {
		return Installed{}, err
	}
	if err := ctx.Err(); err != nil {
		return Installed{}, err
	}
	if err := os.WriteFile(filepath.Join(tmp, featureModelFile), onnx, 0o644); err != nil {
		return Installed{}, fmt.Errorf("import backbone: %w", err)
	}
	// Swap the folder in: an earlier version moves aside first, so the
	// store never shows a half-copied backbone.
	dst := filepath.Join(s.Dir, b.ID)
	old := dst + ".old-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := os.Stat(dst); err == nil {
		if err := os.Rename(dst, old); err != nil {
			return Installed{}, fmt.Errorf("import backbone: %w", err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return Installed{}, fmt.Errorf("import backbone: %w", err)
	}
	return Installed{Info: b.Info, Dir: dst}, nil
}

// copyWeights copies the weight files of src into dir.
func copyWeights(ctx context.Context, src, dir string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return copyFile(ctx, src, filepath.Join(dir, filepath.Base(src)))
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && (n == "model.json" || strings.HasSuffix(n, ".bin") || strings.HasSuffix(n, ".h5")) {
			if err := copyFile(ctx, filepath.Join(src, n), filepath.Join(dir, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyFile(ctx context.Context, src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, ctxio.Reader{Ctx: ctx, R: in}); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Verify re-reads the installed backbone's weights and checks that they
// still hash to the recorded SHA-256, and that the cached feature model was
// built from them.
func (s *Backbones) Verify(ctx context.Context, id string) error {
	in, err := s.Get(id)
	if err != nil {
		return err
	}
	b, err := backbone.Open(in.Dir)
	if err != nil {
		return fmt.Errorf("verify backbone %s: %w", id, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if got := backbone.Identity(b.Weights, in.Preprocess); got != in.SHA256 {
		return fmt.Errorf("verify backbone %s: the weights hash to %s, not the recorded %s: they changed on disk; import the backbone again", id, short(got), short(in.SHA256))
	}
	b.Info = in.Info
	onnx, err := b.FeatureModel()
	if err != nil {
		return err
	}
	cached, err := os.ReadFile(filepath.Join(in.Dir, featureModelFile))
	if err != nil || !bytes.Equal(cached, onnx) {
		// Rebuilding is the repair.
		if err := atomicfile.WriteFile(filepath.Join(in.Dir, featureModelFile), onnx, 0o644); err != nil {
			return fmt.Errorf("verify backbone %s: rebuild the feature model: %w", id, err)
		}
	}
	return nil
}

// FeatureModel returns the installed backbone's ONNX feature model,
// rebuilding it from the weights if the cached copy is missing.
func (s *Backbones) FeatureModel(ctx context.Context, in Installed) ([]byte, error) {
	data, err := os.ReadFile(in.featurePath())
	if err == nil {
		return data, nil
	}
	b, err := backbone.Open(in.Dir)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if backbone.Identity(b.Weights, in.Preprocess) != in.SHA256 {
		return nil, fmt.Errorf("backbone %s changed on disk; import it again", in.ID)
	}
	b.Info = in.Info
	data, err = b.FeatureModel()
	if err != nil {
		return nil, err
	}
	// A failure to cache only costs the next start a rebuild.
	_ = atomicfile.WriteFile(in.featurePath(), data, 0o644)
	return data, nil
}

// Download reports a download's progress in bytes: Total is 0 when
// unknown, and FromCache counts the bytes of a partial download that this
// one resumed, which its rate leaves out.
type Download = progress.Progress

// DownloadImageNet downloads the official Keras ImageNet weights, resuming
// a partial download, checks them against Keras's published MD5, and
// installs them.
func (s *Backbones) DownloadImageNet(ctx context.Context, downloads string, client *http.Client, progress func(Download)) (Installed, error) {
	return s.download(ctx, backbone.ImageNetURL, backbone.ImageNetMD5, downloads, client, progress)
}

func (s *Backbones) download(ctx context.Context, url, wantMD5, downloads string, client *http.Client, progress func(Download)) (Installed, error) {
	if client == nil {
		client = http.DefaultClient
	}
	if err := os.MkdirAll(downloads, 0o755); err != nil {
		return Installed{}, fmt.Errorf("download %s: %w", url, err)
	}
	name := filepath.Base(url)
	part := filepath.Join(downloads, name+".part")
	// One download of a file at a time, across processes: two appending
	// to one partial file would spoil it (the MD5 check would catch it, at
	// the cost of both downloads), or append to the file the first
	// renamed and is importing. The second is told at once rather than
	// kept waiting for the first's minutes.
	l, err := filelock.TryLock(lockPath(part))
	if errors.Is(err, filelock.ErrBusy) {
		return Installed{}, fmt.Errorf("download %s: another Clasifica is downloading it now; try again once it has finished: %w", url, err)
	}
	if err != nil {
		return Installed{}, fmt.Errorf("download %s: %w", url, err)
	}
	defer l.Unlock()
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return Installed{}, fmt.Errorf("download %s: %w", url, err)
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return Installed{}, fmt.Errorf("download %s: %w", url, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Installed{}, err
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := client.Do(req)
	if err != nil {
		return Installed{}, &OfflineError{URL: url, Err: err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
	case resp.StatusCode == http.StatusOK:
		// The server ignored the range: start over.
		if err := f.Truncate(0); err != nil {
			return Installed{}, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return Installed{}, err
		}
		have = 0
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		// Already complete: fall through to the check.
	default:
		return Installed{}, fmt.Errorf("download %s: %s", url, resp.Status)
	}
	p := Download{Done: int(have), FromCache: int(have)}
	if resp.ContentLength > 0 && resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		p.Total = int(have + resp.ContentLength)
	}
	start, last := time.Now(), time.Time{}
	buf := make([]byte, 256<<10)
	for resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return Installed{}, fmt.Errorf("download %s: %w", url, err)
			}
			p.Done += n
			if progress != nil && time.Since(last) > 100*time.Millisecond {
				p.Elapsed = time.Since(start)
				progress(p)
				last = time.Now()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			// The partial file stays for the next attempt to resume.
			return Installed{}, fmt.Errorf("download %s: interrupted after %d bytes (it resumes next time): %w", url, p.Done, rerr)
		}
	}
	if progress != nil {
		p.Elapsed = time.Since(start)
		progress(p)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Installed{}, err
	}
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return Installed{}, fmt.Errorf("download %s: %w", url, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != wantMD5 {
		f.Close()
		os.Remove(part)
		return Installed{}, fmt.Errorf("download %s: the file's MD5 is %s, not %s: it is damaged and was deleted; try again", url, got, wantMD5)
	}
	f.Close()
	final := filepath.Join(downloads, name)
	if err := os.Rename(part, final); err != nil {
		return Installed{}, err
	}
	defer os.Remove(final)
	return s.Import(ctx, final)
}

// OfflineError reports a download that could not reach its server.
type OfflineError struct {
	URL string
	Err error
}

func (e *OfflineError) Error() string {
	return fmt.Sprintf("cannot download %s (%v): offline? Get the file another way and run `clasifica backbone import FILE`", e.URL, e.Err)
}

func (e *OfflineError) Unwrap() error { return e.Err }
