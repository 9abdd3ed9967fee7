package doctor

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/photo"
)

// scaleInput returns 10,000 photos in 37 classes with features shaped
// like pooled backbone features (non-negative, class centres plus
// noise), random fingerprints and 100 planted near-copies: the review of
// a large folder whose features are cached. Extracting the features of
// 10,000 real photos takes hours on a loaded 2-core machine; what is
// measured here is everything after extraction.
func scaleInput(n int) (Input, int) {
	const classes = 37
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := make([]int, classes)
	for i := range n {
		sizes[i%classes]++
	}
	x, labels, _ := synthetic(sizes, features.Dim, 0.8, 0.1, 3)
	in := syntheticInput(x, labels, classes, features.Dim)
	random := func() Print {
		return Print{Whole8: rng.Uint64(), Whole16: [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()},
			Centre16: [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}}
	}
	copies := 0
	for i := range in.Photos {
		in.Photos[i].Print = random()
		if i%100 == 1 {
			// A copy of the previous photo: a few bits flipped.
			p := in.Photos[i-1].Print
			p.Whole8 ^= 1 << (i % 64)
			p.Whole16[0] ^= 0xff
			p.Centre16[1] ^= 0xf0f
			in.Photos[i].Print = p
			copies++
		}
	}
	return in, copies
}

// TestScaleNearCopies searches 10,000 photos' fingerprints (50 million
// pairs) and finds exactly the planted copies; BenchmarkNearPairs10k and
// BenchmarkCheck10k measure the time (see README).
func TestScaleNearCopies(t *testing.T) {
	in, copies := scaleInput(10000)
	prints := make([]Print, len(in.Photos))
	for i, p := range in.Photos {
		prints[i] = p.Print
	}
	pairs, err := nearPairs(context.Background(), prints, MaxPairsPerPhoto*len(prints), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != copies {
		t.Errorf("%d pairs among random prints with %d copies", len(pairs), copies)
	}
	for _, p := range pairs {
		if p.b != p.a+1 || p.a%100 != 0 {
			t.Errorf("pair %d–%d was not planted", p.a, p.b)
		}
	}
}

func BenchmarkNearPairs10k(b *testing.B) {
	in, _ := scaleInput(10000)
	prints := make([]Print, len(in.Photos))
	for i, p := range in.Photos {
		prints[i] = p.Print
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := nearPairs(context.Background(), prints, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck10k measures the whole check on 10,000 photos and logs
// each stage's share.
func BenchmarkCheck10k(b *testing.B) {
	in, _ := scaleInput(10000)
	b.ResetTimer()
	for b.Loop() {
		start, last, stage := time.Now(), time.Now(), ""
		opt := Options{Progress: func(s string, done, total int) {
			if s != stage {
				if stage != "" {
					b.Logf("%s: %.1f s", stage, time.Since(last).Seconds())
				}
				stage, last = s, time.Now()
			}
		}}
		if _, err := Check(context.Background(), in, opt); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %.1f s; total %.1f s", stage, time.Since(last).Seconds(), time.Since(start).Seconds())
	}
}

// BenchmarkFingerprint measures what fingerprinting adds to the feature
// extraction's decode (features.Extractor.Decoded), beside that decode
// (read, decode, resize to 299×299) of the same sample photos and beside
// the first implementation of the print: the print costs passes over the
// decoded pixels, and saves the label check a second decode of each photo.
func BenchmarkFingerprint(b *testing.B) {
	paths, _ := filepath.Glob(filepath.Join(mltest.Photos(b, "flowers"), "*", "*.jpg"))
	paths = paths[:20]
	decoded := samplePrints(b, len(paths))
	b.Run("decode", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := photo.LoadFile(paths[i%len(paths)], inception.Size, photo.Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fingerprint", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			Fingerprint(decoded[i%len(decoded)])
		}
	})
	b.Run("fingerprint-before", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			referencePrint(decoded[i%len(decoded)])
		}
	})
}
