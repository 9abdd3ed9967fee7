package dataset

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestListPhotos(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.jpg")
	b := write("deep/er/b.png")
	write("deep/.hidden.jpg")
	write("deep/.DS_Store")
	write("__MACOSX/._a.jpg")
	single := write("other/single.jpg")
	if err := os.Symlink(dir, filepath.Join(dir, "deep", "loop")); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.jpg")

	tests := []struct {
		name     string
		inputs   []string
		want     []string
		problems []Reason
	}{
		{"folder", []string{dir}, []string{a, b, single}, []Reason{ReasonLinkLoop}},
		{"file", []string{single}, []string{single}, nil},
		{"missing and file", []string{missing, a}, []string{a}, []Reason{ReasonVanished}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems, err := ListPhotos(context.Background(), tt.inputs)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("files %v, want %v", got, want)
			}
			var reasons []Reason
			for _, p := range problems {
				reasons = append(reasons, p.Reason)
			}
			if !slices.Equal(reasons, tt.problems) {
				t.Errorf("problems %v, want reasons %v", problems, tt.problems)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := ListPhotos(ctx, []string{dir}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
