package dataset

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchTree copies the sample photos (pets and flowers, 298 files of
// 5-200 KB) into 10 class folders until there are n distinct files, and
// returns the total size.
func benchTree(b *testing.B, root string, n int) int64 {
	var srcs []string
	for _, set := range []string{"pets", "flowers"} {
		_, photos := sampleClasses(b, set)
		for _, ps := range photos {
			srcs = append(srcs, ps...)
		}
	}
	var size int64
	for i := range n {
		data, err := os.ReadFile(srcs[i%len(srcs)])
		if err != nil {
			b.Fatal(err)
		}
		data = variant(data, fmt.Sprint(i))
		writeFile(b, filepath.Join(root, fmt.Sprintf("class%d", i%10), fmt.Sprintf("%04d.jpg", i)), data)
		size += int64(len(data))
	}
	return size
}

func BenchmarkScan1000(b *testing.B) {
	root := b.TempDir()
	size := benchTree(b, root, 1000)
	for _, workers := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				d, err := Scan(context.Background(), root, Options{Validation: 0.2, Workers: workers})
				if err != nil || len(d.Items) != 1000 {
					b.Fatal(d, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "µs/file")
		})
	}
}

// BenchmarkResplit1000 compares moving a share slider before and after
// Resplit: a new scan of 1000 photos against dividing its result again.
func BenchmarkResplit1000(b *testing.B) {
	root := b.TempDir()
	benchTree(b, root, 1000)
	d, err := Scan(context.Background(), root, Options{Validation: 0.2})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			if _, err := Scan(context.Background(), root, Options{Validation: 0.3, Test: 0.1}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("resplit", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.Resplit(0.3, 0.1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
