package app

import (
	"context"
	"time"

	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/photo"
)

// DecodeRow is the speed of the CPU side of feature extraction with one
// JPEG decoder: read a photo file, decode it and shrink it to the
// backbone's input, on one goroutine.
type DecodeRow struct {
	// Decoder names it: "Go image/jpeg" (photo.JPEGGo), and for
	// photo.JPEGAuto "libjpeg-turbo, scaled" or, in builds without it,
	// "Go, large photos at 1/8 scale".
	Decoder string `json:"decoder"`
	// PhotosPerCoreSec is photos per second of CPU time (the process's,
	// garbage collection included), which a loaded machine does not
	// distort as much as the wall clock.
	PhotosPerCoreSec float64 `json:"photos_per_core_second"`
	// MsPerPhoto is the CPU time of one photo, in milliseconds.
	MsPerPhoto float64 `json:"ms_per_photo"`
	// Failed counts photos that did not decode.
	Failed int `json:"failed,omitempty"`
}

// measureDecode loads the photos with both JPEG decoder choices, for
// about seconds each (at least one pass over the photos, at most ten).
func measureDecode(ctx context.Context, photos []features.Item, seconds float64) ([]DecodeRow, error) {
	auto := "libjpeg-turbo, scaled"
	if !photo.TurboBuiltIn {
		auto = "Go, large photos at 1/8 scale"
	}
	decoders := []struct {
		name string
		dec  photo.JPEGDecoder
	}{{"Go image/jpeg", photo.JPEGGo}, {auto, photo.JPEGAuto}}
	var rows []DecodeRow
	for _, d := range decoders {
		row := DecodeRow{Decoder: d.name}
		n := 0
		start, cpu0 := time.Now(), cpuTime()
		for pass := 0; pass < 10 && (pass == 0 || time.Since(start).Seconds() < seconds); pass++ {
			for _, it := range photos {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				if _, err := photo.LoadFile(it.Path, inception.Size, photo.Limits{JPEG: d.dec}); err != nil && pass == 0 {
					row.Failed++
				}
				n++
			}
		}
		used := (cpuTime() - cpu0).Seconds()
		if used <= 0 { // no CPU clock on this system
			used = time.Since(start).Seconds()
		}
		row.PhotosPerCoreSec = float64(n) / used
		row.MsPerPhoto = 1000 * used / float64(n)
		rows = append(rows, row)
	}
	return rows, nil
}
