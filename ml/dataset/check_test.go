package dataset

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// bombPNG returns a small PNG whose header declares width×height pixels.
func bombPNG(width, height uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
	return append(b, bytes.Repeat([]byte{0}, 64)...)
}

// badPhotosTree holds good photos and every kind of bad one, in two
// classes, plus a class whose only photo is truncated.
func badPhotosTree(t *testing.T) (root string, good int) {
	root = t.TempDir()
	jpeg := onePhoto(t)
	for i := range 3 {
		writeFile(t, filepath.Join(root, "cats", []string{"a.jpg", "b.jpg", "c.jpg"}[i]), fakePhoto(0, i))
		writeFile(t, filepath.Join(root, "dogs", []string{"a.jpg", "b.jpg", "c.jpg"}[i]), fakePhoto(1, i))
	}
	writeFile(t, filepath.Join(root, "dogs", "real.jpg"), jpeg)
	writeFile(t, filepath.Join(root, "cats", "bomb.png"), bombPNG(100000, 100000))
	writeFile(t, filepath.Join(root, "cats", "cut-header.jpg"), jpeg[:20])
	writeFile(t, filepath.Join(root, "cats", "truncated.jpg"), jpeg[:len(jpeg)/3])
	writeFile(t, filepath.Join(root, "dogs", "corrupt.png"), corruptPNG(t))
	writeFile(t, filepath.Join(root, "birds", "only-one-and-truncated.jpg"), jpeg[:len(jpeg)/2])
	return root, 7
}

// corruptPNG returns a PNG whose header is fine and whose image data has
// a flipped byte.
func corruptPNG(t *testing.T) []byte {
	b := bytes.Clone(pngPhoto(t))
	b[len(b)-20] ^= 0xff
	return b
}

// TestBadPhotosBeforeTraining checks that the scan finds what headers
// show (a declared 100000×100000 PNG, a header cut short) and that Check
// finds the rest (truncated and corrupt data), so that the problems
// listed before training are those training would skip.
func TestBadPhotosBeforeTraining(t *testing.T) {
	root, good := badPhotosTree(t)
	d := mustScan(t, root, Options{Validation: 0.2})
	problems := problemMap(d)
	for rel, want := range map[string]Reason{
		"cats/bomb.png":       ReasonTooLarge,
		"cats/cut-header.jpg": ReasonUndecodable,
	} {
		p, ok := problems[filepath.Join(root, rel)]
		if !ok || p.Reason != want {
			t.Errorf("scan: %s: problem %+v, want %s\n%s", rel, p, want, problemList(d))
		}
	}
	if p := problems[filepath.Join(root, "cats/bomb.png")]; !strings.Contains(p.Detail, "100000x100000") {
		t.Errorf("bomb.png detail %q does not give the declared size", p.Detail)
	}
	// Headers intact: these pass the scan.
	items := itemMap(d)
	for _, rel := range []string{"cats/truncated.jpg", "dogs/corrupt.png", "birds/only-one-and-truncated.jpg"} {
		if _, ok := items[filepath.Join(root, rel)]; !ok {
			t.Errorf("scan: %s is not an item", rel)
		}
	}

	var calls []int
	checked, err := Check(context.Background(), d, CheckOptions{Workers: 3, Progress: func(done, total int) {
		if total != len(d.Items) {
			t.Errorf("progress total %d, want %d", total, len(d.Items))
		}
		calls = append(calls, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != len(d.Items)+1 || !slices.IsSorted(calls) || calls[0] != 0 {
		t.Errorf("progress calls %v", calls)
	}
	problems = problemMap(checked)
	for _, rel := range []string{"cats/truncated.jpg", "dogs/corrupt.png", "birds/only-one-and-truncated.jpg"} {
		if p, ok := problems[filepath.Join(root, rel)]; !ok || p.Reason != ReasonUndecodable || p.Detail == "" {
			t.Errorf("check: %s: problem %+v, want %s with a detail", rel, p, ReasonUndecodable)
		}
	}
	if len(checked.Items) != good {
		t.Errorf("check: %d items, want %d:\n%s", len(checked.Items), good, problemList(checked))
	}
	if got := strings.Join(checked.Classes, ","); got != "cats,dogs" {
		t.Errorf("check: classes %s, want cats,dogs (birds has no good photo)", got)
	}
	for _, it := range checked.Items {
		if want := filepath.Base(filepath.Dir(it.Path)); checked.Classes[it.Label] != want {
			t.Errorf("check: %s labelled %s", it.Path, checked.Classes[it.Label])
		}
	}
	if checked.Skipped[ReasonUndecodable] != d.Skipped[ReasonUndecodable]+3 {
		t.Errorf("check: Skipped[%s] = %d, want %d", ReasonUndecodable, checked.Skipped[ReasonUndecodable], d.Skipped[ReasonUndecodable]+3)
	}
	// d itself is unchanged.
	if len(d.Classes) != 3 || len(itemMap(d)) != len(d.Items) || len(problemMap(d)) != len(d.Problems) || len(d.Items) != good+3 {
		t.Errorf("Check changed its input: %d classes, %d items", len(d.Classes), len(d.Items))
	}
}

func TestCheckCancelled(t *testing.T) {
	root := t.TempDir()
	syntheticTree(t, root, []int{0, 1}, 0, 200)
	d := mustScan(t, root, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Check(ctx, d, CheckOptions{Progress: func(done, total int) {
		if done == 10 {
			cancel()
		}
	}})
	if err != context.Canceled {
		t.Fatalf("Check after cancel: %v, want context.Canceled", err)
	}
}
