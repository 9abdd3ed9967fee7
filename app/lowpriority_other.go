//go:build !linux

package app

// lowerPriority does nothing where priority belongs to the process
// (macOS's setpriority) or needs other calls (Windows): there, a
// background check gives way to the user's work in Clasifica only.
func lowerPriority() {}
