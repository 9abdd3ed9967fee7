package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(path string, data []byte) error
	}{
		{"synced", func(p string, d []byte) error { return WriteFile(p, d, 0o644) }},
		{"unsynced", func(p string, d []byte) error { return WriteUnsynced(p, d, 0o644) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "model.clasifica")
			for _, content := range []string{"first", "second, longer"} {
				if err := tc.write(p, []byte(content)); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(p)
				if err != nil || string(got) != content {
					t.Fatalf("read back %q, %v; want %q", got, err, content)
				}
			}
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			// The umask applies as it does to os.WriteFile.
			ref := filepath.Join(dir, "ref")
			if err := os.WriteFile(ref, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			want, _ := os.Stat(ref)
			if st.Mode().Perm() != want.Mode().Perm() {
				t.Errorf("mode %v, want %v as os.WriteFile makes it", st.Mode().Perm(), want.Mode().Perm())
			}
			os.Remove(ref)
			assertOnly(t, dir, "model.clasifica")
		})
	}
}

// A failed fill leaves the old file as it was and no temporary file.
func TestWriteFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "results.csv")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := Write(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if got, _ := os.ReadFile(p); string(got) != "old" {
		t.Fatalf("old file now %q", got)
	}
	assertOnly(t, dir, "results.csv")
}

func TestWriteMissingFolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "such", "folder", "m.clasifica")
	if err := WriteFile(p, []byte("x"), 0o644); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a not-exist error naming the file", err)
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(names) {
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		t.Fatalf("folder holds %q, want %q", got, names)
	}
}
