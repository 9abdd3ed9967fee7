package dataset_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clasifica/clasifica/ml/dataset"
)

// Scanning the sample flower photos, which are arranged as one folder per
// class, and setting 20% aside for validation.
func ExampleScan() {
	root := filepath.Join("..", "..", "testdata", "photos", "flowers")
	opt := dataset.DefaultOptions()
	d, err := dataset.Scan(context.Background(), root, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println(d.Layout, d.Classes)
	counts := d.Counts()
	fmt.Println(d.Classes[0], counts[0].Total(), "photos")
	s := d.Summary()
	fmt.Println(s.Totals.Total(), "photos,", len(s.Problems), "problems")
	// Output:
	// class-folders [daisy dandelion rose sunflower tulip]
	// daisy 30 photos
	// 150 photos, 0 problems
}
