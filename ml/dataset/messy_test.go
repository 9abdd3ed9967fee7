package dataset

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// messyTree builds a class-folder tree with real photos and the clutter
// found in real folders. It returns the relative paths that must become
// items.
func messyTree(t *testing.T, root string) (photos []string) {
	t.Helper()
	_, pets := sampleClasses(t, "pets")
	jpeg := onePhoto(t)
	add := func(rel string, data []byte) {
		writeFile(t, filepath.Join(root, rel), data)
	}
	photo := func(rel string, data []byte) {
		add(rel, data)
		photos = append(photos, rel)
	}
	for i, p := range pets["Bengal"][:3] {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		photo(filepath.Join("cats", []string{"a.jpg", "b.JPG", "deep/er/c.jpeg"}[i]), b)
	}
	for i, p := range pets["beagle"][:3] {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		photo(filepath.Join("dogs", []string{"a.jpg", "Ñandú 猫 🐱.jpg", "e\u0301t\u00e9.jpg"}[i]), b)
	}
	photo("cats/really-a-jpeg.txt", jpeg)
	photo("cats/png-named.jpg", pngPhoto(t))
	photo("cats/no-extension", pngPhoto(t)[:40]) // short but a PNG by content

	add("cats/empty.jpg", nil)
	add("cats/notes.jpg", []byte("hello, this is not a photo\n"))
	add("cats/iphone.jpg", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"))
	add("cats/tiny.jpg", []byte{0xFF, 0xD8}) // shorter than any signature

	add("dogs/.hidden.jpg", jpeg)
	add("dogs/.thumbnails/a.jpg", jpeg)
	add("dogs/.thumbnails/b.jpg", jpeg)
	add("dogs/.DS_Store", []byte("\x00\x00\x00\x01Bud1"))
	add("dogs/Thumbs.db", []byte{0xD0, 0xCF, 0x11, 0xE0})
	add("dogs/desktop.ini", []byte("[.ShellClassInfo]\r\n"))
	add("dogs/@eaDir/a.jpg/SYNOPHOTO_THUMB_M.jpg", jpeg)
	add("__MACOSX/dogs/._a.jpg", []byte{0x00, 0x05, 0x16, 0x07})
	add(".DS_Store", []byte("x"))

	add("loose.jpg", jpeg)
	add("notes/todo.txt", []byte("sort the photos"))
	return photos
}

func TestMessyFiles(t *testing.T) {
	root := t.TempDir()
	want := messyTree(t, root)
	d := mustScan(t, root, Options{Validation: 0.3, Workers: 3})

	if got := strings.Join(d.Classes, ","); got != "cats,dogs" {
		t.Errorf("classes = %s, want cats,dogs", got)
	}
	items := itemMap(d)
	for _, rel := range want {
		if _, ok := items[filepath.Join(root, rel)]; !ok {
			t.Errorf("%s: not an item", rel)
		}
	}
	if len(d.Items) != len(want) {
		t.Errorf("%d items, want %d", len(d.Items), len(want))
	}
	if it := items[filepath.Join(root, "cats/really-a-jpeg.txt")]; d.Classes[it.Label] != "cats" || it.Size != int64(len(onePhoto(t))) {
		t.Errorf("really-a-jpeg.txt = %+v", it)
	}

	problems := problemMap(d)
	for rel, want := range map[string]struct {
		reason Reason
		detail string
	}{
		"cats/empty.jpg":  {ReasonEmpty, ""},
		"cats/notes.jpg":  {ReasonNotImage, "text"},
		"cats/iphone.jpg": {ReasonNotImage, "HEIC"},
		"cats/tiny.jpg":   {ReasonNotImage, ""},
		"loose.jpg":       {ReasonUnlabelled, "not inside a class folder"},
		"notes":           {ReasonEmptyFolder, ""},
	} {
		p, ok := problems[filepath.Join(root, rel)]
		if !ok {
			t.Errorf("%s: no problem recorded", rel)
			continue
		}
		if p.Reason != want.reason || !strings.Contains(p.Detail, want.detail) {
			t.Errorf("%s: problem %v, want %s with detail containing %q", rel, p, want.reason, want.detail)
		}
	}
	// notes/todo.txt is also reported, as not a photo.
	if got := len(d.Problems); got != 7 {
		t.Errorf("%d problems, want 7:\n%s", got, problemList(d))
	}
	for reason, n := range map[Reason]int{
		ReasonHidden:      2, // .hidden.jpg and the .thumbnails folder, once
		ReasonSystem:      6, // .DS_Store twice, Thumbs.db, desktop.ini, @eaDir, __MACOSX
		ReasonNotImage:    4,
		ReasonEmpty:       1,
		ReasonUnlabelled:  1,
		ReasonEmptyFolder: 1,
	} {
		if d.Skipped[reason] != n {
			t.Errorf("Skipped[%s] = %d, want %d", reason, d.Skipped[reason], n)
		}
	}
	for _, p := range d.Problems {
		if p.Reason.Silent() {
			t.Errorf("silent problem listed: %v", p)
		}
	}

	s := d.Summary()
	counted := map[Reason]int{}
	for _, ps := range s.Problems {
		counted[ps.Reason] = ps.Count
		if ps.Description == "" || ps.Description == string(ps.Reason) {
			t.Errorf("reason %s has no description", ps.Reason)
		}
		if ps.Reason.Silent() && len(ps.Examples) > 0 {
			t.Errorf("silent reason %s lists examples %q", ps.Reason, ps.Examples)
		}
	}
	if counted[ReasonSystem] != 6 || counted[ReasonNotImage] != 4 {
		t.Errorf("summary counts %v", counted)
	}
}

func TestFileDeletedDuringScan(t *testing.T) {
	root := t.TempDir()
	jpeg := onePhoto(t)
	for _, rel := range []string{"a/1.jpg", "a/2.jpg", "b/1.jpg", "b/2.jpg"} {
		writeFile(t, filepath.Join(root, rel), variant(jpeg, rel))
	}
	gone := filepath.Join(root, "a", "2.jpg")
	d, err := scan(context.Background(), root, Options{}, hooks{afterList: func(paths []string) {
		if len(paths) != 4 {
			t.Errorf("listed %q", paths)
		}
		if err := os.Remove(gone); err != nil {
			t.Error(err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if p := problemMap(d)[gone]; p.Reason != ReasonVanished {
		t.Errorf("deleted file: problem %v, want %s\n%s", p, ReasonVanished, problemList(d))
	}
	if len(d.Items) != 3 {
		t.Errorf("%d items, want 3", len(d.Items))
	}
}

// failingReader returns a photo's first bytes and then an I/O error.
type failingReader struct {
	head []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.head) == 0 {
		return 0, r.err
	}
	n := copy(p, r.head)
	r.head = r.head[n:]
	return n, nil
}

func (r *failingReader) Close() error { return nil }

// TestOpenErrors injects the errors a real disk gives only by chance or to
// unprivileged users (tests run as root, where permissions do not apply).
func TestOpenErrors(t *testing.T) {
	root := t.TempDir()
	jpeg := onePhoto(t)
	for _, rel := range []string{"a/ok.jpg", "a/denied.jpg", "a/ioerror.jpg", "a/notafile.jpg", "b/ok.jpg"} {
		writeFile(t, filepath.Join(root, rel), variant(jpeg, rel))
	}
	open := func(name string) (io.ReadCloser, error) {
		switch filepath.Base(name) {
		case "denied.jpg":
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		case "ioerror.jpg":
			return &failingReader{head: jpeg[:100], err: errors.New("input/output error")}, nil
		case "notafile.jpg":
			return nil, &fs.PathError{Op: "open", Path: name, Err: errNotRegular}
		}
		return openRegular(name)
	}
	d, err := scan(context.Background(), root, Options{}, hooks{open: open})
	if err != nil {
		t.Fatal(err)
	}
	problems := problemMap(d)
	for name, want := range map[string]Reason{
		"denied.jpg":   ReasonPermission,
		"ioerror.jpg":  ReasonUnreadable,
		"notafile.jpg": ReasonNotRegular,
	} {
		p := problems[filepath.Join(root, "a", name)]
		if p.Reason != want || p.Detail == "" || strings.Contains(p.Detail, root) {
			t.Errorf("%s: problem %+v, want %s with a detail that does not repeat the path", name, p, want)
		}
	}
	if len(d.Items) != 2 {
		t.Errorf("%d items, want 2", len(d.Items))
	}
}

func TestGuessContent(t *testing.T) {
	for head, want := range map[string]string{
		"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00": "HEIC",
		"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00": "AVIF",
		"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00": "video",
		"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n":            "PDF",
		"PK\x03\x04\x14\x00\x06\x00":               "zip",
		"Dear diary,\r\ntoday":                     "text",
		"\x7fELF\x02\x01\x01\x00":                  "",
	} {
		if got := guessContent([]byte(head)); !strings.Contains(got, want) || (want == "" && got != "") {
			t.Errorf("guessContent(%q) = %q, want %q", head, got, want)
		}
	}
}
