//go:build linux && cgo && !noturbojpeg

package photo_test

import (
	"runtime"
	"syscall"
	"testing"

	"github.com/clasifica/clasifica/ml/photo"
)

// threadCPU locks the benchmark to its thread and returns a function that
// reports the thread's CPU time per operation ("cpu-ns/op"): on a shared,
// loaded machine it varies far less than the wall time.
func threadCPU(b *testing.B) func() {
	runtime.LockOSThread()
	start := threadTime()
	return func() {
		b.ReportMetric(float64(threadTime()-start)/float64(b.N), "cpu-ns/op")
		runtime.UnlockOSThread()
	}
}

// threadTime is the calling thread's user and system time, in nanoseconds.
func threadTime() int64 {
	var ru syscall.Rusage
	const rusageThread = 1 // Linux's RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		panic(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkLoad12MP measures the path a phone's photo takes: LoadFile of
// 12-megapixel JPEGs with a phone's grain (3–4 MB, as tools/largephotos
// makes them) to 299×299, and the eighth-scale decode alone, from memory.
// The photos are made from four sample photos (a few seconds before the
// first run); ns/op is per photo.
func BenchmarkLoad12MP(b *testing.B) {
	paths, files := writeLargePhotos(b, b.TempDir(),
		"../../testdata/photos/flowers/daisy/100080576_f52e8ee070_n.jpg",
		"../../testdata/photos/flowers/rose/10090824183_d02c613f10_m.jpg",
		"../../testdata/photos/flowers/sunflower/1008566138_6927679c8a.jpg",
		"../../testdata/photos/pets/pug/pug_112.jpg")
	b.Run("LoadFile", func(b *testing.B) {
		defer threadCPU(b)()
		i := 0
		for b.Loop() {
			if _, err := photo.LoadFile(paths[i%len(paths)], 299, photo.Limits{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("eighth", func(b *testing.B) {
		defer threadCPU(b)()
		i := 0
		for b.Loop() {
			if !photo.Eighth(files[i%len(files)]) {
				b.Fatal("declined")
			}
			i++
		}
	})
}
