package bytesize

import "testing"

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{999, "999 B"},
		{1000, "1.0 kB"},
		{12_345, "12.3 kB"},
		{999_949, "999.9 kB"},
		{999_950, "1.0 MB"},
		{92_000_000, "92.0 MB"},
		{1 << 20, "1.0 MB"},
		{1_340_000_000, "1.3 GB"},
		{2_000_000_000_000, "2.0 TB"},
		{-1500, "-1.5 kB"},
	} {
		if got := Format(tc.n); got != tc.want {
			t.Errorf("Format(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
