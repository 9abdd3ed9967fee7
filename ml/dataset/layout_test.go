package dataset

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestScanLayouts(t *testing.T) {
	flowers, flowerPhotos := sampleClasses(t, "flowers")
	breeds, petPhotos := sampleClasses(t, "pets")
	isCat := func(breed string) bool { return breed[0] >= 'A' && breed[0] <= 'Z' }

	tests := []struct {
		name    string
		build   func(t *testing.T, root string)
		opt     Options
		layout  Layout
		classes []string // nil: only the count is checked
		nClass  int
		// want are the exact counts per split, or, with hashSplit, only
		// the total (the split is decided by content).
		want      SplitCounts
		hashSplit bool
		note      []string // phrases the layout note must contain
	}{
		{
			name: "class folders linked",
			build: func(t *testing.T, root string) {
				for _, c := range flowers {
					symlink(t, filepath.Join(sampleDir(t, "flowers"), c), filepath.Join(root, c))
				}
			},
			opt:       DefaultOptions(),
			layout:    ClassFolders,
			classes:   []string{"daisy", "dandelion", "rose", "sunflower", "tulip"},
			want:      SplitCounts{Train: 150},
			hashSplit: true,
			note:      []string{"Found 5 folders", "20% for validation"},
		},
		{
			name: "class folders nested at any depth",
			build: func(t *testing.T, root string) {
				for _, b := range breeds {
					kind := "dogs"
					if isCat(b) {
						kind = "cats"
					}
					for k, p := range petPhotos[b] {
						// Some photos directly in the class folder, others
						// two levels down.
						dst := filepath.Join(root, kind, b, "2024", filepath.Base(p))
						if k == 0 {
							dst = filepath.Join(root, kind, filepath.Base(p))
						}
						copyFile(t, p, dst)
					}
				}
			},
			opt:       Options{Validation: 0.2, Test: 0.1},
			layout:    ClassFolders,
			classes:   []string{"cats", "dogs"},
			want:      SplitCounts{Train: 148},
			hashSplit: true,
			note:      []string{"10% for testing", "20% for validation"},
		},
		{
			name: "class folders in natural order",
			build: func(t *testing.T, root string) {
				for i, c := range []string{"class10", "Class2", "class1", "Ünïcode 猫"} {
					copyFile(t, flowerPhotos[flowers[i]][0], filepath.Join(root, c, "a.jpg"))
				}
			},
			layout:  ClassFolders,
			classes: []string{"class1", "Class2", "class10", "Ünïcode 猫"},
			want:    SplitCounts{Train: 4},
			note:    []string{"No photos were set aside"},
		},
		{
			name: "train and test folders",
			build: func(t *testing.T, root string) {
				for _, b := range breeds {
					for k, p := range petPhotos[b] {
						split := "train"
						if k == 3 {
							split = "test"
						}
						symlink(t, p, filepath.Join(root, split, b, filepath.Base(p)))
					}
				}
			},
			opt:       Options{Validation: 0.25, Test: 0.5},
			layout:    SplitFolders,
			nClass:    37,
			want:      SplitCounts{Train: 111, Test: 37},
			hashSplit: true, // validation is carved out of train
			note:      []string{"train/ and test/", "25% of the training photos for validation", "test share was not used"},
		},
		{
			name: "train, val and test folders, any case",
			build: func(t *testing.T, root string) {
				for _, c := range flowers {
					for k, p := range flowerPhotos[c] {
						split := "Train"
						switch {
						case k >= 25:
							split = "TEST"
						case k >= 20:
							split = "val"
						}
						copyFile(t, p, filepath.Join(root, split, c, filepath.Base(p)))
					}
				}
				writeFile(t, filepath.Join(root, "README.txt"), []byte("flowers"))
			},
			opt:     DefaultOptions(),
			layout:  SplitFolders,
			classes: []string{"daisy", "dandelion", "rose", "sunflower", "tulip"},
			want:    SplitCounts{Train: 100, Validation: 25, Test: 25},
			note:    []string{"Train/, val/ and TEST/", "kept in the splits they were given"},
		},
		{
			name: "a class of trains is not a split",
			build: func(t *testing.T, root string) {
				copyFile(t, flowerPhotos["daisy"][0], filepath.Join(root, "train", "a.jpg"))
				copyFile(t, flowerPhotos["rose"][0], filepath.Join(root, "test", "b.jpg"))
			},
			layout:  ClassFolders,
			classes: []string{"test", "train"},
			want:    SplitCounts{Train: 2},
		},
		{
			name:      "Oxford pets by breed",
			build:     func(t *testing.T, root string) { petsLayout(t, root) },
			opt:       Options{Validation: 0.2, Granularity: Breed},
			layout:    OxfordPets,
			nClass:    37,
			want:      SplitCounts{Train: 111, Test: 37},
			hashSplit: true,
			note:      []string{"Oxford-IIIT Pet", "by breed", "20% of the training photos"},
		},
		{
			name:      "Oxford pets by species",
			build:     func(t *testing.T, root string) { petsLayout(t, root) },
			opt:       Options{Validation: 0.2, Test: 0.3, Granularity: Species},
			layout:    OxfordPets,
			classes:   []string{"cat", "dog"},
			want:      SplitCounts{Train: 111, Test: 37},
			hashSplit: true,
			note:      []string{"by species", "test share was not used"},
		},
		{
			name:      "Oxford pets inside the download folder",
			build:     func(t *testing.T, root string) { petsLayout(t, filepath.Join(root, "oxford-iiit-pet")) },
			opt:       Options{Granularity: Species},
			layout:    OxfordPets,
			classes:   []string{"cat", "dog"},
			want:      SplitCounts{Train: 111, Test: 37},
			hashSplit: true,
			note:      []string{`Looked inside "oxford-iiit-pet"`},
		},
		{
			name: "split folders inside a lone folder",
			build: func(t *testing.T, root string) {
				for _, c := range flowers[:2] {
					for k, p := range flowerPhotos[c][:10] {
						split := "train"
						if k >= 8 {
							split = "test"
						}
						symlink(t, p, filepath.Join(root, "flower_photos", split, c, filepath.Base(p)))
					}
				}
			},
			layout:  SplitFolders,
			classes: []string{"daisy", "dandelion"},
			want:    SplitCounts{Train: 16, Test: 4},
			note:    []string{`Looked inside "flower_photos"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.build(t, root)
			d := mustScan(t, root, tc.opt)
			if d.Layout != tc.layout {
				t.Errorf("layout = %s, want %s", d.Layout, tc.layout)
			}
			if tc.classes != nil && !slices.Equal(d.Classes, tc.classes) {
				t.Errorf("classes = %q, want %q", d.Classes, tc.classes)
			}
			if tc.nClass != 0 && len(d.Classes) != tc.nClass {
				t.Errorf("%d classes, want %d", len(d.Classes), tc.nClass)
			}
			got := totals(d)
			if tc.hashSplit {
				// Validation (and test, for layouts without one) come out
				// of the training photos.
				gotTrain := got[Train] + got[Validation]
				wantTest := tc.want[Test]
				if tc.want[Test] == 0 {
					gotTrain += got[Test]
				}
				if gotTrain != tc.want[Train] || got[Test] != wantTest && tc.want[Test] != 0 {
					t.Errorf("counts = %v, want %d for training and validation, %d for test", got, tc.want[Train], tc.want[Test])
				}
				if tc.opt.Validation > 0 && got[Validation] == 0 {
					t.Errorf("no validation photos with share %v: %v", tc.opt.Validation, got)
				}
			} else if got != tc.want {
				t.Errorf("counts = %v, want %v", got, tc.want)
			}
			for _, phrase := range tc.note {
				if !strings.Contains(d.LayoutNote, phrase) {
					t.Errorf("layout note %q does not say %q", d.LayoutNote, phrase)
				}
			}
			if len(d.Problems) > 0 && tc.layout != SplitFolders {
				t.Errorf("unexpected problems:\n%s", problemList(d))
			}
			for _, it := range d.Items {
				if it.Size <= 0 || it.Hash == [32]byte{} || !filepath.IsAbs(it.Path) {
					t.Errorf("item %+v incomplete", it)
				}
			}
		})
	}
}

func TestScanPetsClasses(t *testing.T) {
	root := t.TempDir()
	petsLayout(t, root)
	d := mustScan(t, root, Options{Granularity: Breed})
	// Natural order ignores case: cats (capitalised) and dogs interleave.
	if got := d.Classes[:4]; !slices.Equal(got, []string{"Abyssinian", "american_bulldog", "american_pit_bull_terrier", "basset_hound"}) {
		t.Errorf("first classes = %q", got)
	}
	for i, c := range d.Counts() {
		if c[Test] != 1 || c.Total() != 4 {
			t.Errorf("class %s: counts %v, want 4 photos with 1 for test", d.Classes[i], c)
		}
	}
	d = mustScan(t, root, Options{Granularity: Species})
	c := d.Counts()
	if c[0].Total() != 48 || c[1].Total() != 100 {
		t.Errorf("cats %v, dogs %v; want 48 and 100", c[0], c[1])
	}
}

func TestScanRefusesLayouts(t *testing.T) {
	_, photos := sampleClasses(t, "flowers")
	daisy := photos["daisy"]
	tests := []struct {
		name   string
		build  func(t *testing.T, root string)
		found  string // phrase the explanation must contain
		choose string // the folder chosen, below root; "" for root
	}{
		{"empty folder", func(t *testing.T, root string) {}, "it is empty", ""},
		{"only hidden files", func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, ".DS_Store"), []byte("x"))
			copyFile(t, daisy[0], filepath.Join(root, ".secret", "a.jpg"))
		}, "only hidden or system files", ""},
		{"flat folder of photos", func(t *testing.T, root string) {
			for _, p := range daisy[:7] {
				copyFile(t, p, filepath.Join(root, filepath.Base(p)))
			}
		}, "it holds 7 files but no folders to say what they show", ""},
		{"one class folder", func(t *testing.T, root string) {
			for _, p := range daisy[:3] {
				copyFile(t, p, filepath.Join(root, "daisy", filepath.Base(p)))
			}
		}, `only one folder, "daisy"`, ""},
		{"one class folder with subfolders", func(t *testing.T, root string) {
			copyFile(t, daisy[0], filepath.Join(root, "cats", "2019", "a.jpg"))
			copyFile(t, daisy[1], filepath.Join(root, "cats", "2020", "b.jpg"))
		}, `only one folder, "cats"`, ""},
		{"one folder with photos, one with none", func(t *testing.T, root string) {
			copyFile(t, daisy[0], filepath.Join(root, "daisy", "a.jpg"))
			writeFile(t, filepath.Join(root, "notes", "todo.txt"), []byte("label the roses"))
		}, `only one folder, "daisy", holds photos`, ""},
		{"folders without files", func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "a", ".keep"), nil)
			writeFile(t, filepath.Join(root, "b", ".keep"), nil)
		}, "none of its 2 folders holds files", ""},
		{"pets without split annotations", func(t *testing.T, root string) {
			copyFile(t, daisy[0], filepath.Join(root, "images", "Abyssinian_1.jpg"))
			writeFile(t, filepath.Join(root, "annotations", "list.txt"), []byte("Abyssinian_1 1 1 1\n"))
		}, "annotations/trainval.txt and annotations/test.txt are missing", ""},
		{"pets download in a folder, incomplete", func(t *testing.T, root string) {
			copyFile(t, daisy[0], filepath.Join(root, "pets", "images", "Abyssinian_1.jpg"))
			writeFile(t, filepath.Join(root, "pets", "annotations", "trainval.txt"), []byte("Abyssinian_1 1 1 1\n"))
		}, "annotations/test.txt is missing", ""},
		{"train folder without photos", func(t *testing.T, root string) {
			copyFile(t, daisy[0], filepath.Join(root, "test", "daisy", "a.jpg"))
			copyFile(t, daisy[1], filepath.Join(root, "test", "rose", "b.jpg"))
			writeFile(t, filepath.Join(root, "train", "daisy", "notes.txt"), []byte("none yet"))
		}, "train folder holds no photos", ""},
		{"images folder of the pets dataset", func(t *testing.T, root string) {
			petsLayout(t, root)
		}, "they look like the images of the Oxford-IIIT Pet dataset", "images"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.build(t, root)
			root = filepath.Join(root, tc.choose)
			_, err := Scan(context.Background(), root, DefaultOptions())
			le := layoutError(t, err)
			msg := err.Error()
			for _, want := range []string{tc.found, root, "my-photos/", "cats/", "train/", "Oxford-IIIT Pet"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message does not contain %q:\n%s", want, msg)
				}
			}
			if le.Root != root {
				t.Errorf("Root = %q, want %q", le.Root, root)
			}
		})
	}
}

func TestScanNotAFolder(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "photo.jpg")
	writeFile(t, file, onePhoto(t))
	for _, tc := range []struct {
		path string
		want string
		is   error
	}{
		{file, "not a folder", nil},
		{filepath.Join(root, "nowhere"), "nowhere", fs.ErrNotExist},
	} {
		_, err := Scan(context.Background(), tc.path, DefaultOptions())
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("Scan(%s) = %v, want an error naming the path and saying %q", tc.path, err, tc.want)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("Scan(%s) = %v, want errors.Is %v", tc.path, err, tc.is)
		}
	}
}

func TestOptionsValidated(t *testing.T) {
	root := t.TempDir()
	for _, opt := range []Options{
		{Validation: -0.1},
		{Validation: 1},
		{Test: 1.5},
		{Validation: 0.6, Test: 0.4},
		{Validation: nan()},
		{Granularity: 7},
	} {
		if _, err := Scan(context.Background(), root, opt); err == nil || !strings.HasPrefix(err.Error(), "dataset: ") {
			t.Errorf("Scan with %+v = %v, want an options error", opt, err)
		}
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}
