package dataset

import (
	"slices"
	"testing"
)

func TestNaturalCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"a", "b", -1},
		{"B", "a", 1},
		{"apple", "Banana", -1},
		{"photo 2", "photo 10", -1},
		{"photo10", "photo9", 1},
		{"x007", "x7", -1}, // equal values: bytes decide, deterministically
		{"x7", "x007", 1},
		{"Cat", "cat", -1},
		{"cat", "cat", 0},
		{"cat", "cats", -1},
		{"", "a", -1},
		{"99999999999999999999999", "100000000000000000000000", -1}, // no overflow
		{"Élan", "élan", -1},
		{"a\xff", "a\xfe", 1},
		{"class1b", "class1a", 1},
	}
	for _, tc := range tests {
		if got := naturalCompare(tc.a, tc.b); got != tc.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := naturalCompare(tc.b, tc.a); got != -tc.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	names := []string{"tulip", "Class 10", "class 2", "Daisy", "class 1", "rose", "Rose", "daisy"}
	slices.SortFunc(names, naturalCompare)
	want := []string{"class 1", "class 2", "Class 10", "Daisy", "daisy", "Rose", "rose", "tulip"}
	if !slices.Equal(names, want) {
		t.Errorf("sorted %q, want %q", names, want)
	}
}
