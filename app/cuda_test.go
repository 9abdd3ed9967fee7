package app

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

func TestAdviseCUDA(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("CUDA does not run on macOS: no advice to give")
	}
	noCUDA := []ProviderStatus{
		{Provider: onnxrt.CUDA, Name: "CUDA", Reason: "this ONNX Runtime library has no CUDA provider"},
		{Provider: onnxrt.WebGPU, Name: "WebGPU", Available: true},
		{Provider: onnxrt.CPU, Name: "CPU", Available: true},
	}
	cudaWorks := []ProviderStatus{{Provider: onnxrt.CUDA, Name: "CUDA", Available: true}, {Provider: onnxrt.CPU, Name: "CPU", Available: true}}
	cpuOnly := []ProviderStatus{{Provider: onnxrt.CUDA, Name: "CUDA", Reason: "no"}, {Provider: onnxrt.WebGPU, Name: "WebGPU", Reason: "no"}, {Provider: onnxrt.CPU, Name: "CPU", Available: true}}
	h200 := []string{"NVIDIA H200"}
	for _, c := range []struct {
		name   string
		st     []ProviderStatus
		gpus   []string
		advice bool
		gain   string
	}{
		{"no NVIDIA card", noCUDA, nil, false, ""},
		{"CUDA already works", cudaWorks, h200, false, ""},
		{"WebGPU now", noCUDA, h200, true, "4 times as fast"},
		{"the processor now", cpuOnly, h200, true, "processor cores"},
	} {
		t.Run(c.name, func(t *testing.T) {
			adv := AdviseCUDA(c.st, c.gpus)
			if (adv != nil) != c.advice {
				t.Fatalf("advice %+v, want some: %v", adv, c.advice)
			}
			if adv == nil {
				return
			}
			if adv.GPU != "NVIDIA H200" || !strings.Contains(adv.Gain, c.gain) || adv.Reason != c.st[0].Reason {
				t.Errorf("advice %+v", adv)
			}
			all := strings.Join(adv.Steps, "\n")
			for _, want := range []string{"gpu-" + RuntimeVersion, "setup --runtime", "cuDNN 9"} {
				if !strings.Contains(all, want) {
					t.Errorf("steps do not say %q:\n%s", want, all)
				}
			}
		})
	}
}

func TestRuntimeArg(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"classify", "--runtime", "/x/lib.so", "a.jpg"}, "/x/lib.so"},
		{[]string{"train", "--runtime=/y.so"}, "/y.so"},
		{[]string{"bench", "-runtime", "z.so"}, "z.so"},
		{[]string{"classify", "--", "--runtime", "a"}, ""},
		{[]string{"classify", "--runtime"}, ""},
		{nil, ""},
	} {
		if got := RuntimeArg(c.args); got != c.want {
			t.Errorf("RuntimeArg(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

// TestInstallRuntime installs ONNX Runtime from each form a user may hold
// (an official .tgz with its symbolic links, an unpacked folder, a NuGet
// package) and checks that a GPU build installed so is the one found,
// before the library shipped with the app.
func TestInstallRuntime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the archives built here have the Linux layout")
	}
	lib := mltest.RuntimeLibrary(t)
	core, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	// The provider libraries only need to be there to be copied.
	cudaLib, shared := []byte("cuda provider"), []byte("shared provider")
	const v = "onnxruntime-linux-x64-gpu-" + RuntimeVersion
	tgz := filepath.Join(t.TempDir(), v+".tgz")
	{
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		add := func(name string, data []byte) {
			tw.WriteHeader(&tar.Header{Name: v + "/" + name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg})
			tw.Write(data)
		}
		link := func(name, target string) {
			tw.WriteHeader(&tar.Header{Name: v + "/" + name, Linkname: target, Typeflag: tar.TypeSymlink})
		}
		add("LICENSE", []byte("MIT"))
		add("include/onnxruntime_c_api.h", []byte("/* header */"))
		add("lib/libonnxruntime.so."+RuntimeVersion, core)
		link("lib/libonnxruntime.so.1", "libonnxruntime.so."+RuntimeVersion)
		link("lib/libonnxruntime.so", "libonnxruntime.so.1")
		add("lib/libonnxruntime_providers_cuda.so", cudaLib)
		add("lib/libonnxruntime_providers_shared.so", shared)
		tw.Close()
		gz.Close()
		if err := os.WriteFile(tgz, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nupkg := filepath.Join(t.TempDir(), "microsoft.ml.onnxruntime.gpu.linux."+RuntimeVersion+".nupkg")
	{
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for name, data := range map[string][]byte{
			"runtimes/linux-x64/native/libonnxruntime.so":                core,
			"runtimes/linux-x64/native/libonnxruntime_providers_cuda.so": cudaLib,
			"runtimes/win-x64/native/onnxruntime_providers_cuda.dll":     []byte("windows"),
			"Microsoft.ML.OnnxRuntime.Gpu.Linux.nuspec":                  []byte("<package/>"),
		} {
			f, _ := zw.Create(name)
			f.Write(data)
		}
		zw.Close()
		if err := os.WriteFile(nupkg, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	unpacked := filepath.Join(t.TempDir(), v)
	os.MkdirAll(filepath.Join(unpacked, "lib"), 0o755)
	os.WriteFile(filepath.Join(unpacked, "lib", "libonnxruntime.so.1"), core, 0o755)
	os.WriteFile(filepath.Join(unpacked, "lib", "libonnxruntime_providers_cuda.so"), cudaLib, 0o755)

	for _, c := range []struct {
		name, src, lib string
		want           map[string][]byte
	}{
		{"release archive", tgz, "libonnxruntime.so.1", map[string][]byte{
			"libonnxruntime.so.1": core, "libonnxruntime.so": core, "libonnxruntime.so." + RuntimeVersion: core,
			"libonnxruntime_providers_cuda.so": cudaLib, "libonnxruntime_providers_shared.so": shared}},
		{"unpacked folder", unpacked, "libonnxruntime.so.1", map[string][]byte{
			"libonnxruntime.so.1": core, "libonnxruntime_providers_cuda.so": cudaLib}},
		{"NuGet package", nupkg, "libonnxruntime.so", map[string][]byte{
			"libonnxruntime.so": core, "libonnxruntime_providers_cuda.so": cudaLib}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dirs := Dirs{Cache: t.TempDir(), Config: t.TempDir(), Data: t.TempDir()}
			before, _ := os.ReadFile(c.src)
			got, err := InstallRuntime(c.src, dirs)
			if err != nil {
				t.Fatal(err)
			}
			if got != filepath.Join(dirs.Runtime(), c.lib) {
				t.Errorf("installed library %s, want %s in %s", got, c.lib, dirs.Runtime())
			}
			ents, _ := os.ReadDir(dirs.Runtime())
			if len(ents) != len(c.want) {
				t.Errorf("installed %d files, want %d: %v", len(ents), len(c.want), ents)
			}
			for name, data := range c.want {
				b, err := os.ReadFile(filepath.Join(dirs.Runtime(), name))
				if err != nil || !bytes.Equal(b, data) {
					t.Errorf("%s: %d bytes (%v), want %d", name, len(b), err, len(data))
				}
			}
			if after, _ := os.ReadFile(c.src); !bytes.Equal(before, after) {
				t.Errorf("the source %s changed", c.src)
			}
			// The GPU build comes before anything shipped or set in the
			// environment, unless the user names a library.
			t.Setenv("ONNXRUNTIME_LIB", "")
			found, err := FindRuntime("", dirs)
			if err != nil || found != got {
				t.Errorf("FindRuntime = %s, %v; want the installed GPU build %s", found, err, got)
			}
			if found, _ := FindRuntime(lib, dirs); found != lib {
				t.Errorf("FindRuntime(%s) = %s: the named library must win", lib, found)
			}
		})
	}
	if _, err := InstallRuntime(filepath.Join(t.TempDir(), "none.tgz"), Dirs{Cache: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "none.tgz") {
		t.Errorf("a missing archive: %v", err)
	}
	empty := t.TempDir()
	if _, err := InstallRuntime(empty, Dirs{Cache: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no libonnxruntime.so.1") {
		t.Errorf("a folder without the library: %v", err)
	}
}
