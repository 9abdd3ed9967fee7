// Package bytesize writes byte counts for people, in the decimal units
// (kB, MB, GB: powers of 1000) that Windows Explorer's peers — macOS Finder,
// GNOME Files — and download pages use, so that "92 MB" here is "92 MB"
// there.
package bytesize

import "fmt"

// Format writes n bytes with one decimal above a kilobyte: "512 B",
// "12.3 kB", "92.0 MB", "1.3 GB".
func Format(n int64) string {
	switch a := float64(n); {
	case n < 0:
		return "-" + Format(-n)
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case a < 999.95e3:
		return fmt.Sprintf("%.1f kB", a/1e3)
	case a < 999.95e6:
		return fmt.Sprintf("%.1f MB", a/1e6)
	case a < 999.95e9:
		return fmt.Sprintf("%.1f GB", a/1e9)
	default:
		return fmt.Sprintf("%.1f TB", a/1e12)
	}
}
