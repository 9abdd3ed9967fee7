package dataset

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

func TestSummaryJSON(t *testing.T) {
	root := t.TempDir()
	flowers, photos := sampleClasses(t, "flowers")
	for _, c := range flowers[:3] {
		for _, p := range photos[c] {
			symlink(t, p, filepath.Join(root, c, filepath.Base(p)))
		}
	}
	writeFile(t, filepath.Join(root, "rose", "empty.jpg"), nil)
	writeFile(t, filepath.Join(root, "rose", ".DS_Store"), []byte("x"))
	d := mustScan(t, root, Options{Validation: 0.2, Test: 0.1})
	b, err := json.Marshal(d.Summary())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Root       string `json:"root"`
		Layout     string `json:"layout"`
		LayoutNote string `json:"layout_note"`
		Classes    []struct {
			Name   string         `json:"name"`
			Counts map[string]int `json:"counts"`
			Weight float64        `json:"weight"`
		} `json:"classes"`
		Totals   map[string]int `json:"totals"`
		Problems []struct {
			Reason      string   `json:"reason"`
			Description string   `json:"description"`
			Count       int      `json:"count"`
			Examples    []string `json:"examples"`
		} `json:"problems"`
		Warnings []Warning `json:"warnings"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Root != root || got.Layout != "class-folders" || got.LayoutNote == "" {
		t.Errorf("header %q %q %q", got.Root, got.Layout, got.LayoutNote)
	}
	if len(got.Classes) != 3 || got.Classes[0].Name != "daisy" || got.Totals["total"] != 90 {
		t.Errorf("classes %+v totals %v", got.Classes, got.Totals)
	}
	sum := 0
	for _, c := range got.Classes {
		if c.Counts["train"]+c.Counts["validation"]+c.Counts["test"] != c.Counts["total"] || c.Weight <= 0 {
			t.Errorf("class %+v", c)
		}
		sum += c.Counts["total"]
	}
	if sum != 90 {
		t.Errorf("classes hold %d photos, want 90", sum)
	}
	want := map[string]int{"empty-file": 1, "system-file": 1}
	if len(got.Problems) != 2 {
		t.Errorf("problems %+v", got.Problems)
	}
	for _, p := range got.Problems {
		if want[p.Reason] != p.Count || p.Description == "" {
			t.Errorf("problem %+v", p)
		}
	}
	if got.Warnings == nil {
		t.Error("warnings is null, want a list")
	}
}

func TestSplitText(t *testing.T) {
	for _, s := range []Split{Train, Validation, Test} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Split
		if err := back.UnmarshalText(b); err != nil || back != s || string(b) != s.String() {
			t.Errorf("%v → %q → %v, %v", s, b, back, err)
		}
	}
	if _, err := Split(7).MarshalText(); err == nil {
		t.Error("Split(7) marshalled")
	}
}

func TestReasonsDescribed(t *testing.T) {
	reasons := []Reason{
		ReasonEmpty, ReasonNotImage, ReasonPermission, ReasonUnreadable, ReasonVanished,
		ReasonBrokenLink, ReasonLinkLoop, ReasonFolderSeen, ReasonNotRegular, ReasonBadName,
		ReasonUnlabelled, ReasonEmptyFolder, ReasonIgnoredFolder, ReasonMissing,
		ReasonBadAnnotation, ReasonHidden, ReasonSystem, ReasonUndecodable, ReasonTooLarge,
	}
	seen := map[string]Reason{}
	for _, r := range reasons {
		d := r.Describe()
		if d == string(r) || d == "" {
			t.Errorf("%s has no description", r)
		}
		if other, ok := seen[d]; ok {
			t.Errorf("%s and %s share a description", r, other)
		}
		seen[d] = r
		if r.Silent() != (r == ReasonHidden || r == ReasonSystem) {
			t.Errorf("%s.Silent() = %v", r, r.Silent())
		}
	}
	if got := (Problem{"/a/b.jpg", ReasonEmpty, ""}).String(); got != "/a/b.jpg: empty-file" {
		t.Errorf("Problem.String() = %q", got)
	}
	if got := (Problem{"/a/b.jpg", ReasonUndecodable, "bad huffman code"}).String(); got != "/a/b.jpg: undecodable: bad huffman code" {
		t.Errorf("Problem.String() = %q", got)
	}
	if Breed.String() != "breed" || Species.String() != "species" || Split(9).String() != "Split(9)" {
		t.Error("String methods")
	}
}
