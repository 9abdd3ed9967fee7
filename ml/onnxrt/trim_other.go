//go:build !linux

package onnxrt

// giveBackMemory does nothing: the allocators of Windows and macOS give
// large freed blocks back to the system themselves.
func giveBackMemory() {}

// keepFreedMemory does nothing: see giveBackMemory.
func keepFreedMemory(bool) {}
