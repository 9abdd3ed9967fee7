// Package version says which Clasifica this is: the one place the program's
// name and version live, for --version, Help → About, the files it writes
// and the installers' metadata.
package version

import "runtime/debug"

// Producer is the program's name as it signs the files it writes.
const Producer = "clasifica"

// Version is the release, stamped at link time by `make` and `make dist`
// (-ldflags "-X github.com/clasifica/clasifica/internal/version.Version=1.2.3",
// from `git describe`). Unstamped builds fall back to the module version `go
// install …@v1.2.3` records, and then to "dev".
var Version = ""

// Get returns the version: the stamped one, the module's, or "dev".
func Get() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// String returns the producer and version, "clasifica 1.2.3", as model files
// and exported graphs record them.
func String() string { return Producer + " " + Get() }
