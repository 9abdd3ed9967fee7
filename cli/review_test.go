package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
)

// TestDatasetReview builds a folder of pets and flowers with three photos
// in the wrong folder and one near-copy, and reads the review's JSON.
func TestDatasetReview(t *testing.T) {
	t.Setenv("CLASIFICA_HOME", t.TempDir())
	t.Setenv("ONNXRUNTIME_LIB", mltest.RuntimeLibrary(t))
	root := t.TempDir()
	put := func(src, class, name string, extra []byte) string {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, class, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, append(b, extra...), 0o644); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	wrong := map[string]bool{}
	for _, set := range []struct{ dir, class, other string }{{"pets", "pet", "flower"}, {"flowers", "flower", "pet"}} {
		var files []string
		kinds, err := os.ReadDir(mltest.Photos(t, set.dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kinds {
			fs, _ := filepath.Glob(filepath.Join(mltest.Photos(t, set.dir, k.Name()), "*.jpg"))
			files = append(files, fs[:min(len(fs), 30/len(kinds)+1)]...)
		}
		for i, f := range files[:30] {
			class := set.class
			if i%10 == 3 {
				class = set.other
			}
			p := put(f, class, filepath.Base(f), nil)
			if class != set.class {
				wrong[p] = true
			}
		}
	}
	// The same photo under another name, a few bytes longer: not an exact
	// duplicate (another content hash), the same picture.
	orig := filepath.Join(root, "flower", "100080576_f52e8ee070_n.jpg")
	if _, err := os.Stat(orig); err != nil {
		t.Fatalf("the test expects %s: %v", orig, err)
	}
	cp := put(orig, "flower", "copy of daisy.jpg", []byte("trailing bytes"))

	code, out, errOut := clasifica(t, "dataset", "review", root, "--backbone", mltest.Backbone(t), "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "extracting features") {
		t.Errorf("no progress while extracting:\n%s", errOut)
	}
	var rep struct {
		Mislabeled []struct {
			Path, Label, Suggested string
			Score                  *float64
		} `json:"mislabeled"`
		NearDuplicates []struct {
			Paths      []string `json:"paths"`
			Similarity *float64 `json:"similarity"`
			Splits     []string `json:"splits"`
		} `json:"near_duplicates"`
		Outliers        []map[string]any `json:"outliers"`
		StrangersJudged bool             `json:"strangers_judged"`
		StrangersReason string           `json:"strangers_reason"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("review JSON: %v\n%s", err, out)
	}
	hits := 0
	for _, s := range rep.Mislabeled {
		if wrong[s.Path] {
			hits++
		}
		if s.Score == nil || s.Label == "" || s.Suggested == "" || s.Label == s.Suggested {
			t.Errorf("suspect %+v", s)
		}
	}
	t.Logf("%d wrong labels planted; %d suspects, %d of them planted", len(wrong), len(rep.Mislabeled), hits)
	if hits < len(wrong)/2 || len(rep.Mislabeled) > 2*len(wrong) {
		t.Errorf("%d suspects, %d of the %d planted:\n%s", len(rep.Mislabeled), hits, len(wrong), out)
	}
	found := false
	for _, c := range rep.NearDuplicates {
		if len(c.Paths) != 2 || len(c.Splits) != 2 || c.Similarity == nil {
			t.Errorf("pair %+v", c)
			continue
		}
		if (c.Paths[0] == orig && c.Paths[1] == cp || c.Paths[0] == cp && c.Paths[1] == orig) && *c.Similarity == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("the copy was not paired with its original:\n%s", out)
	}
	// Whether strangers are judged is the probe photos' answer; either
	// way the list is there, and "not judged" says why.
	if rep.Outliers == nil || !rep.StrangersJudged && rep.StrangersReason == "" {
		t.Errorf("strangers judged %v, reason %q, list %v", rep.StrangersJudged, rep.StrangersReason, rep.Outliers)
	}
	t.Logf("strangers judged %v (%s): %d listed", rep.StrangersJudged, rep.StrangersReason, len(rep.Outliers))

	// "It's right" keeps a suspect off the next list.
	if len(rep.Mislabeled) == 0 {
		t.Fatal("no suspect to confirm")
	}
	right := rep.Mislabeled[0].Path
	dirs, err := app.DefaultDirs()
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(dirs)
	d, err := a.Scan(context.Background(), root, dataset.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err := app.FindPhoto(d, right)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ConfirmLabel(d, p, true); err != nil {
		t.Fatal(err)
	}

	// The table says the same, and the fingerprints are kept: a second
	// review decodes nothing.
	code, out, errOut = clasifica(t, "dataset", "review", root, "--backbone", mltest.Backbone(t))
	if code != 0 || !strings.Contains(out, "Probably in the wrong folder") || !strings.Contains(out, "Near-copies: ") || !strings.Contains(out, "Strangers") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out, right) {
		t.Errorf("%s was confirmed right and is still suspected:\n%s", right, out)
	}
	if strings.Contains(errOut, "extracting features") || strings.Contains(errOut, "fingerprinting") {
		t.Errorf("second review worked again:\n%s", errOut)
	}
}

// TestReviewBadInput gives review a missing folder, a file and an unknown
// format: each is refused with what is wrong, before the image model
// loads (nothing about it is printed).
func TestReviewBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "photo.jpg")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(dir, "nope")}, "no folder " + filepath.Join(dir, "nope") + " to review"},
		{[]string{file}, file + " is a file: review needs the folder of photos"},
		{[]string{dir, "--format", "xml"}, `unknown --format "xml": use table or json`},
	} {
		code, _, errOut := clasifica(t, append([]string{"dataset", "review"}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("review %v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
		if strings.Contains(errOut, "Backbone:") {
			t.Errorf("review %v loaded the image model before refusing:\n%s", tc.args, errOut)
		}
	}
}
