//go:build !unix

package cli

// peakRSS is not measured on this system.
func peakRSS() int64 { return 0 }
