package dataset

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParsePetLine(t *testing.T) {
	tests := []struct {
		line    string
		want    petRecord
		ok      bool
		wantErr string
	}{
		{"Abyssinian_100 1 1 1", petRecord{"Abyssinian_100", "Abyssinian", 1, 1, 1}, true, ""},
		{"american_pit_bull_terrier_191 3 2 2\r", petRecord{"american_pit_bull_terrier_191", "american_pit_bull_terrier", 3, 2, 2}, true, ""},
		{"  great_pyrenees_1\t17 2 11  ", petRecord{"great_pyrenees_1", "great_pyrenees", 17, 2, 11}, true, ""},
		{"#Image CLASS-ID SPECIES BREED ID", petRecord{}, false, ""},
		{"", petRecord{}, false, ""},
		{"   ", petRecord{}, false, ""},
		{"Abyssinian_100 1 1", petRecord{}, false, "want 4 fields"},
		{"Abyssinian_100 1 1 1 extra", petRecord{}, false, "want 4 fields"},
		{"Abyssinian 1 1 1", petRecord{}, false, "_<number>"},
		{"Abyssinian_ 1 1 1", petRecord{}, false, "_<number>"},
		{"_12 1 1 1", petRecord{}, false, "_<number>"},
		{"Abyssinian_1x 1 1 1", petRecord{}, false, "_<number>"},
		{"../etc/passwd_1 1 1 1", petRecord{}, false, "plain file name"},
		{"a\\b_1 1 1 1", petRecord{}, false, "plain file name"},
		{"Abyssinian_1 x 1 1", petRecord{}, false, "field 2"},
		{"Abyssinian_1 1 3 1", petRecord{}, false, "species 3"},
		{"Abyssinian_1 1 1 -4", petRecord{}, false, "field 4"},
		{"Abyssinian_1 99999999999999999999 1 1", petRecord{}, false, "field 2"},
	}
	for _, tc := range tests {
		got, ok, err := parsePetLine(tc.line)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parsePetLine(%q) error = %v, want %q", tc.line, err, tc.wantErr)
			}
			continue
		}
		if err != nil || ok != tc.ok || got != tc.want {
			t.Errorf("parsePetLine(%q) = %+v, %v, %v; want %+v, %v", tc.line, got, ok, err, tc.want, tc.ok)
		}
	}
}

func FuzzParsePetLine(f *testing.F) {
	for _, s := range []string{"Abyssinian_100 1 1 1", "# comment", "", "a_1 2 2 2", "../x_1 1 1 1", "a_1 1 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		rec, ok, err := parsePetLine(line)
		if err != nil || !ok {
			return
		}
		if rec.image == "" || rec.breed == "" || !strings.HasPrefix(rec.image, rec.breed+"_") ||
			strings.ContainsAny(rec.image, "/\\\x00") || !utf8.ValidString(rec.image) ||
			(rec.species != petCat && rec.species != petDog) {
			t.Errorf("parsePetLine(%q) accepted %+v", line, rec)
		}
	})
}

func TestPetsProblems(t *testing.T) {
	root := t.TempDir()
	petsLayout(t, root)
	ann := filepath.Join(root, "annotations")
	// A damaged line, a photo that is not there, a photo listed in both
	// files, and a photo in images/ that is listed nowhere.
	trainval, err := os.ReadFile(filepath.Join(ann, "trainval.txt"))
	if err != nil {
		t.Fatal(err)
	}
	test, err := os.ReadFile(filepath.Join(ann, "test.txt"))
	if err != nil {
		t.Fatal(err)
	}
	firstTest := strings.Fields(strings.Split(string(test), "\n")[4])[0]
	trainval = append(trainval, "garbage line\nAbyssinian_999999 1 1 1\n"+firstTest+" 1 1 1\n"...)
	writeFile(t, filepath.Join(ann, "trainval.txt"), trainval)
	writeFile(t, filepath.Join(root, "images", "Unlisted_1.jpg"), onePhoto(t))
	writeFile(t, filepath.Join(root, "images", "Abyssinian_100.mat"), []byte("MATLAB 5.0 MAT-file"))
	writeFile(t, filepath.Join(root, "images", "._Abyssinian_1.jpg"), []byte{0, 5, 22, 7})

	d := mustScan(t, root, Options{Granularity: Species})
	problems := problemMap(d)
	img := filepath.Join(root, "images")
	for path, want := range map[string]Reason{
		filepath.Join(ann, "trainval.txt") + ":" + strconv.Itoa(strings.Count(string(trainval), "\n")-2): ReasonBadAnnotation,
		filepath.Join(img, "Abyssinian_999999.jpg"):                                                      ReasonMissing,
		filepath.Join(img, firstTest+".jpg"):                                                             ReasonBadAnnotation,
		filepath.Join(img, "Unlisted_1.jpg"):                                                             ReasonUnlabelled,
		filepath.Join(img, "Abyssinian_100.mat"):                                                         ReasonUnlabelled,
	} {
		if p := problems[path]; p.Reason != want {
			t.Errorf("%s: problem %v, want %s\n%s", path, p, want, problemList(d))
		}
	}
	if len(d.Problems) != 5 || d.Skipped[ReasonHidden] != 1 {
		t.Errorf("problems:\n%s\nskipped %v", problemList(d), d.Skipped)
	}
	// The photo listed twice stays in test only.
	if it, ok := itemMap(d)[filepath.Join(img, firstTest+".jpg")]; !ok || it.Split != Test {
		t.Errorf("photo listed in test.txt and trainval.txt: %+v", it)
	}
	if c := totals(d); c[Test] != 37 || c.Total() != 148 {
		t.Errorf("counts %v", c)
	}
}

func TestPetsAnnotationLimits(t *testing.T) {
	root := t.TempDir()
	petsLayout(t, root)
	writeFile(t, filepath.Join(root, "annotations", "test.txt"), []byte(strings.Repeat("x", maxAnnotationLine+10)))
	_, err := Scan(context.Background(), root, Options{})
	if err == nil || !strings.Contains(err.Error(), "test.txt") || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("Scan with a huge line = %v", err)
	}
}
