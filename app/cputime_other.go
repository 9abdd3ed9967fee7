//go:build !unix

package app

import "time"

// cpuTime is not measured on this system: measureDecode then uses the
// wall clock.
func cpuTime() time.Duration { return 0 }
