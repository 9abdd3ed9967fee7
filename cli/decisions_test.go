package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
)

// TestDecisionVerbs records, lists and undoes decisions from the command
// line, on a copy of two sample flower folders.
func TestDecisionVerbs(t *testing.T) {
	home := t.TempDir()
	t.Setenv("CLASIFICA_HOME", home)
	root := t.TempDir()
	var photos []string
	for _, class := range []string{"daisy", "rose"} {
		src := mltest.Photos(t, "flowers", class)
		ents, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents[:3] {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(root, class, e.Name())
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			photos = append(photos, p)
		}
	}
	// PHOTO relative to the current folder.
	t.Chdir(root)
	rel := filepath.Join("daisy", filepath.Base(photos[0]))

	code, out, errOut := clasifica(t, "dataset", "relabel", root, rel, "buttercup")
	if code != 0 || !strings.Contains(out, "buttercup is a new class") || !strings.Contains(out, "needs 10 photos or more") || !strings.Contains(out, "now counts as buttercup") {
		t.Fatalf("relabel: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut = clasifica(t, "dataset", "leave-out", root, photos[4]); code != 0 || !strings.Contains(out, "left out") {
		t.Fatalf("leave-out: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut = clasifica(t, "dataset", "relabel", root, "no-such.jpg", "rose"); code != 1 || !strings.Contains(errOut, "no-such.jpg") {
		t.Errorf("relabel of a missing photo: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ = clasifica(t, "cache", "clear"); code != 0 {
		t.Fatalf("cache clear: exit %d: %s", code, out)
	}

	code, out, errOut = clasifica(t, "dataset", "decisions", root, "--format", "json")
	if code != 0 {
		t.Fatalf("decisions: exit %d\n%s", code, errOut)
	}
	var rep struct {
		Store     string                       `json:"store"`
		Decisions []map[string]json.RawMessage `json:"decisions"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decisions JSON: %v\n%s", err, out)
	}
	if !strings.HasPrefix(rep.Store, filepath.Join(home, "data")) || len(rep.Decisions) != 2 {
		t.Fatalf("store %s with %d decisions, want 2 under %s/data (kept through cache clear)\n%s", rep.Store, len(rep.Decisions), home, out)
	}
	for _, d := range rep.Decisions {
		for _, key := range []string{"path", "sha256", "label", "override", "leave_out", "right", "split"} {
			if _, ok := d[key]; !ok {
				t.Errorf("decision lacks %q: %s", key, out)
			}
		}
		var path string
		json.Unmarshal(d["path"], &path)
		switch path {
		case photos[0]:
			if string(d["override"]) != `"buttercup"` || string(d["label"]) != `"daisy"` || string(d["split"]) != "null" {
				t.Errorf("relabelled photo: %s", out)
			}
		case photos[4]:
			if string(d["override"]) != "null" || string(d["leave_out"]) != "true" {
				t.Errorf("left-out photo: %s", out)
			}
		default:
			t.Errorf("unexpected path %s", path)
		}
	}

	code, out, _ = clasifica(t, "dataset", "inspect", root)
	if code != 0 || !strings.Contains(out, "Your decisions: 2 in effect (1 relabelled, 1 left out") ||
		!strings.Contains(out, `"buttercup" has 1 photo (1 added by corrections or relabelled): a kind needs 10 photos or more`) {
		t.Errorf("inspect with decisions: exit %d\n%s", code, out)
	}

	for _, p := range []string{rel, photos[4]} {
		if code, out, errOut = clasifica(t, "dataset", "forget", root, p); code != 0 || !strings.Contains(out, "Forgot") {
			t.Errorf("forget %s: exit %d\n%s%s", p, code, out, errOut)
		}
	}
	if code, out, _ = clasifica(t, "dataset", "decisions", root); code != 0 || !strings.Contains(out, "No decisions") {
		t.Errorf("decisions after forgetting: exit %d\n%s", code, out)
	}
}
