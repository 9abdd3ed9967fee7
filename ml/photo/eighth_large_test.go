//go:build linux && cgo && !noturbojpeg

package photo_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"github.com/clasifica/clasifica/internal/largephoto"
	"github.com/clasifica/clasifica/ml/photo"
)

// TestEighthLarge checks the eighth-scale decoder against libjpeg-turbo on
// 12-megapixel photos with a phone's grain, whole and cut to sizes that
// are not whole MCUs.
func TestEighthLarge(t *testing.T) {
	m, _, err := photo.DecodeFile("../../testdata/photos/flowers/daisy/100080576_f52e8ee070_n.jpg", photo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	big := largephoto.Make(m, 1, largephoto.Grain)
	for _, r := range []image.Rectangle{big.Bounds(), image.Rect(0, 0, 4001, 2999), image.Rect(0, 0, 3017, 2993)} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, big.SubImage(r), &jpeg.Options{Quality: 92}); err != nil {
			t.Fatal(err)
		}
		if !photo.EighthMatches(t, r.String(), buf.Bytes()) {
			t.Errorf("%v: a 12-megapixel 4:2:0 photo was not taken", r)
		}
	}
}
