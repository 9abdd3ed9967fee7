package photo

import (
	"errors"
	"os"
	"testing"
)

func TestCheckHeader(t *testing.T) {
	pets, err := os.ReadFile(petsPhoto)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		head     []byte
		complete bool
		kind     ErrorKind // 0: no error
	}{
		{"whole photo", pets, true, 0},
		// The header is intact: only a full decode finds the rest missing.
		{"truncated jpeg", pets[:len(pets)/3], true, 0},
		{"start of a longer file", pets[:20], false, 0},
		{"cut inside the header", pets[:20], true, Corrupt},
		{"text", []byte("name,label\n"), true, Unsupported},
		{"huge png", hugePNG(), true, TooLarge},
		{"huge png, start only", hugePNG()[:40], false, TooLarge},
		{"huge jpeg", hugeJPEG(), false, TooLarge},
		{"huge tiff", rawTIFF(nil, 100000, 100000, 1), true, TooLarge},
		{"huge webp lossless", hugeWebPLossless(), true, TooLarge},
		{"jpeg scan bomb", scanBomb(2048, 1000), false, TooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckHeader(tc.head, tc.complete, Limits{})
			if tc.kind == 0 {
				if err != nil {
					t.Fatalf("CheckHeader: %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != tc.kind {
				t.Fatalf("CheckHeader: %v, want a %s *Error", err, tc.kind)
			}
		})
	}
}
