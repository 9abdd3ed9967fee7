package dataset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// sampleDir is where CI puts the shared sample photos: the repository is
// cloned beside shared/.
func sampleDir(t testing.TB, set string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "photos", set)
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("sample photos missing (the repository must be cloned beside shared/): %v", err)
	}
	return abs
}

// sampleClasses returns the class folders of a sample set and their photos,
// in name order.
func sampleClasses(t testing.TB, set string) (names []string, photos map[string][]string) {
	t.Helper()
	dir := sampleDir(t, set)
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	photos = map[string][]string{}
	for _, de := range des {
		if !de.IsDir() {
			continue
		}
		fs, err := os.ReadDir(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			photos[de.Name()] = append(photos[de.Name()], filepath.Join(dir, de.Name(), f.Name()))
		}
		names = append(names, de.Name())
	}
	return names, photos
}

// onePhoto returns the bytes of a real sample JPEG.
func onePhoto(t testing.TB) []byte {
	t.Helper()
	_, photos := sampleClasses(t, "flowers")
	b, err := os.ReadFile(photos["daisy"][0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pngPhoto returns a small real PNG.
func pngPhoto(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakePhoto returns distinct small real JPEGs, for tests that need
// thousands of photos: one 8×8 JPEG with bytes after its end marker that
// decoders ignore and hashes see.
func fakePhoto(class, i int) []byte {
	return fmt.Appendf(slices.Clip(tinyJPEG), "class %d photo %d", class, i)
}

var tinyJPEG = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		panic(err)
	}
	return buf.Bytes()
}()

// writeFile creates a file and its folders.
func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyFile copies src to dst, creating dst's folders.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, b)
}

// symlink creates a symbolic link and its folder.
func symlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// mustScan scans with the given options and fails the test on error.
func mustScan(t testing.TB, root string, opt Options) *Dataset {
	t.Helper()
	d, err := Scan(context.Background(), root, opt)
	if err != nil {
		t.Fatalf("Scan(%s): %v", root, err)
	}
	return d
}

// problemMap indexes problems by path.
func problemMap(d *Dataset) map[string]Problem {
	m := map[string]Problem{}
	for _, p := range d.Problems {
		m[p.Path] = p
	}
	return m
}

// itemMap indexes items by path.
func itemMap(d *Dataset) map[string]Item {
	m := map[string]Item{}
	for _, it := range d.Items {
		m[it.Path] = it
	}
	return m
}

// totals sums the counts of all classes.
func totals(d *Dataset) SplitCounts {
	var s SplitCounts
	for _, c := range d.Counts() {
		for sp := range c {
			s[sp] += c[sp]
		}
	}
	return s
}

// warningsOf returns the warnings of one kind.
func warningsOf(s Summary, kind WarningKind) []Warning {
	var ws []Warning
	for _, w := range s.Warnings {
		if w.Kind == kind {
			ws = append(ws, w)
		}
	}
	return ws
}

// layoutError asserts that err is a *LayoutError and returns it.
func layoutError(t testing.TB, err error) *LayoutError {
	t.Helper()
	var le *LayoutError
	if !errors.As(err, &le) {
		t.Fatalf("error = %v (%T), want a *LayoutError", err, err)
	}
	return le
}

// problemList formats problems for failure messages.
func problemList(d *Dataset) string {
	var lines []string
	for _, p := range d.Problems {
		lines = append(lines, p.String())
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// petsLayout builds an Oxford-IIIT Pet download from the sample photos:
// images/<Breed>_<n>.jpg and annotations/{list,trainval,test}.txt, with
// each breed's last photo in test.txt. It returns the root and the number
// of test photos.
func petsLayout(t testing.TB, root string) (nTest int) {
	t.Helper()
	breeds, photos := sampleClasses(t, "pets")
	// The dataset numbers breeds alphabetically without regard to case.
	sort.Slice(breeds, func(i, j int) bool { return strings.ToLower(breeds[i]) < strings.ToLower(breeds[j]) })
	var list, trainval, test strings.Builder
	header := "#Image CLASS-ID SPECIES BREED ID\n#ID: 1:37 Class ids\n#SPECIES: 1:Cat 2:Dog\n#BREED ID: 1-25:Cat 1:12:Dog\n"
	list.WriteString(header)
	trainval.WriteString(header)
	test.WriteString(header)
	var cats, dogs int
	for classID, breed := range breeds {
		species, breedID := 2, 0
		if breed[0] >= 'A' && breed[0] <= 'Z' {
			cats++
			species, breedID = 1, cats
		} else {
			dogs++
			breedID = dogs
		}
		for k, p := range photos[breed] {
			name := strings.TrimSuffix(filepath.Base(p), ".jpg")
			symlink(t, p, filepath.Join(root, "images", name+".jpg"))
			line := fmt.Sprintf("%s %d %d %d\n", name, classID+1, species, breedID)
			list.WriteString(line)
			if k == len(photos[breed])-1 {
				test.WriteString(line)
				nTest++
			} else {
				trainval.WriteString(line)
			}
		}
	}
	writeFile(t, filepath.Join(root, "annotations", "list.txt"), []byte(list.String()))
	writeFile(t, filepath.Join(root, "annotations", "trainval.txt"), []byte(trainval.String()))
	writeFile(t, filepath.Join(root, "annotations", "test.txt"), []byte(test.String()))
	return nTest
}

// variant returns a copy of a photo with bytes appended after its end,
// which decoders ignore: a distinct file that is still the same picture.
func variant(photo []byte, tail string) []byte {
	return append(slices.Clip(photo), tail...)
}
