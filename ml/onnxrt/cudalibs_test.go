package onnxrt

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// TestCUDAFolders builds a provider library that links against a CUDA
// library kept outside the loader's path, as PyTorch's nvidia-* packages
// keep cuDNN, and checks that CUDAFolders finds the folder that holds it,
// and names the library when no folder does.
func TestCUDAFolders(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ELF libraries: Linux only")
	}
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc to build the test libraries") // the cgo build needs it: CI has it
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "empty.c")
	if err := os.WriteFile(src, []byte("int clasifica_test_symbol(void) { return 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cudnn := filepath.Join(tmp, "site-packages", "nvidia", "cudnn", "lib")
	rt := filepath.Join(tmp, "onnxruntime", "lib")
	for _, d := range []string{cudnn, rt} {
		os.MkdirAll(d, 0o755)
	}
	run := func(args ...string) {
		if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %v: %v\n%s", args, err, out)
		}
	}
	run("-shared", "-fPIC", "-o", filepath.Join(cudnn, "libcudnn.so.9"), "-Wl,-soname,libcudnn.so.9", src)
	run("-shared", "-fPIC", "-o", filepath.Join(rt, "libonnxruntime_providers_cuda.so"), src, "-Wl,--no-as-needed", filepath.Join(cudnn, "libcudnn.so.9"))
	lib := filepath.Join(rt, "libonnxruntime.so.1")
	os.WriteFile(lib, []byte("core"), 0o755)
	t.Setenv("LD_LIBRARY_PATH", "")

	extra, missing := CUDAFolders(lib, []string{tmp, cudnn})
	if !slices.Equal(extra, []string{cudnn}) || len(missing) != 0 {
		t.Errorf("CUDAFolders = %v, missing %v; want %s", extra, missing, cudnn)
	}
	extra, missing = CUDAFolders(lib, nil)
	if len(extra) != 0 || !slices.Equal(missing, []string{"libcudnn.so.9"}) {
		t.Errorf("nowhere to look: %v, missing %v; want libcudnn.so.9 missing", extra, missing)
	}
	// Found by the loader already: nothing to add.
	t.Setenv("LD_LIBRARY_PATH", cudnn)
	if extra, missing := CUDAFolders(lib, []string{cudnn}); len(extra)+len(missing) != 0 {
		t.Errorf("with the folder on LD_LIBRARY_PATH: %v, missing %v", extra, missing)
	}
	// A CPU-only build has no provider: nothing to do.
	if extra, missing := CUDAFolders(filepath.Join(tmp, "libonnxruntime.so.1"), []string{cudnn}); len(extra)+len(missing) != 0 {
		t.Errorf("no provider: %v, missing %v", extra, missing)
	}
}
