package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/photo"
)

func TestMeasureDecode(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.jpg")
	data, err := os.ReadFile(mltest.Photos(t, "pets", "Abyssinian", "Abyssinian_101.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, data[:300], 0o644); err != nil {
		t.Fatal(err)
	}
	photos := []features.Item{
		{Path: mltest.Photos(t, "pets", "Abyssinian", "Abyssinian_101.jpg")},
		{Path: mltest.Photos(t, "flowers", "tulip", "100930342_92e8746431_n.jpg")},
		{Path: broken},
	}
	rows, err := measureDecode(context.Background(), photos, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Go image/jpeg", "libjpeg-turbo, scaled"}
	if !photo.TurboBuiltIn {
		want[1] = "Go, large photos at 1/8 scale"
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, r := range rows {
		if r.Decoder != want[i] || r.Failed != 1 || r.PhotosPerCoreSec <= 0 || r.MsPerPhoto <= 0 {
			t.Errorf("row %d: %+v, want decoder %q, 1 failed photo and a positive rate", i, r, want[i])
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := measureDecode(ctx, photos, 0); err == nil {
		t.Error("measureDecode ignored a cancelled context")
	}
}
