package onnxrt

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// NVIDIAGPUs names the NVIDIA GPUs the system's driver reports, in PCI bus
// order, without loading any GPU library: on Linux the driver's
// /proc/driver/nvidia/gpus entries; on Windows the driver's CUDA library
// in the system folder says that one is there, not which ("NVIDIA GPU").
// Empty when there is none, or none the driver knows.
func NVIDIAGPUs() []string {
	switch runtime.GOOS {
	case "linux":
		infos, _ := filepath.Glob("/proc/driver/nvidia/gpus/*/information")
		sort.Strings(infos)
		var names []string
		for _, info := range infos {
			name := "NVIDIA GPU"
			if b, err := os.ReadFile(info); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model" && strings.TrimSpace(v) != "" {
						name = strings.TrimSpace(v)
					}
				}
			}
			names = append(names, name)
		}
		return names
	case "windows":
		sys := os.Getenv("SystemRoot")
		if sys == "" {
			sys = `C:\Windows`
		}
		if _, err := os.Stat(filepath.Join(sys, "System32", "nvcuda.dll")); err == nil {
			return []string{"NVIDIA GPU"}
		}
	}
	return nil
}

// CUDASearchDirs lists the folders, beyond those the system's loader
// searches, where CUDA and cuDNN libraries are commonly installed: CUDA
// toolkits under /usr/local and /opt, and the nvidia-* packages of Python
// environments (PyTorch's wheels bring their own CUDA and cuDNN there),
// which the loader never searches by itself. Only folders that exist are
// listed, in a stable order: toolkits first, newest first.
func CUDASearchDirs() []string {
	if runtime.GOOS != "linux" {
		return nil
	}
	var dirs []string
	add := func(pattern string) {
		m, _ := filepath.Glob(pattern)
		sort.Sort(sort.Reverse(sort.StringSlice(m)))
		for _, d := range m {
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				dirs = append(dirs, d)
			}
		}
	}
	for _, p := range []string{"/usr/local/cuda*/lib64", "/usr/local/cuda*/targets/*/lib", "/opt/cuda*/lib64", "/opt/nvidia/cuda*/lib64"} {
		add(p)
	}
	// Python environments: the active ones first, then the user's and the
	// system's, then environments kept under /opt.
	var sites []string
	for _, env := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if v := os.Getenv(env); v != "" {
			sites = append(sites, filepath.Join(v, "lib", "python3*", "site-packages"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		sites = append(sites, filepath.Join(home, ".local", "lib", "python3*", "site-packages"))
	}
	sites = append(sites, "/usr/local/lib/python3*/dist-packages", "/usr/lib/python3*/dist-packages",
		"/opt/*/lib/python3*/site-packages", "/opt/*/*/lib/python3*/site-packages")
	for _, s := range sites {
		add(filepath.Join(s, "nvidia", "*", "lib"))
	}
	seen := map[string]bool{}
	out := dirs[:0]
	for _, d := range dirs {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// CUDAProvider is where ONNX Runtime's GPU builds keep the CUDA provider's
// library: next to the runtime library lib.
func CUDAProvider(lib string) string { return providerLibrary(lib, "onnxruntime_providers_cuda") }

// providerLibrary is the file of the provider library called name
// ("onnxruntime_providers_shared") next to the runtime library lib, named
// as this system names shared libraries.
func providerLibrary(lib, name string) string {
	if runtime.GOOS == "windows" {
		name += ".dll"
	} else {
		name = "lib" + name + ".so"
	}
	return filepath.Join(filepath.Dir(lib), name)
}

// CUDAFolders says where the CUDA and cuDNN libraries that the CUDA
// provider next to the ONNX Runtime library lib needs can be found when
// the system's loader would not find them: extra lists the folders (from
// search, typically CUDASearchDirs) that hold the missing ones, and
// missing names those found nowhere. Both are empty when there is no CUDA
// provider next to lib or it needs nothing the loader lacks. The loader
// reads its search path once, when the process starts, so the folders
// only help a process started with them on LD_LIBRARY_PATH.
func CUDAFolders(lib string, search []string) (extra, missing []string) {
	provider := CUDAProvider(lib)
	if _, err := os.Stat(provider); err != nil {
		return nil, nil
	}
	lacking, _ := missingDeps(provider)
	used := map[string]bool{}
	for _, n := range lacking {
		found := false
		for _, d := range search {
			if _, err := os.Stat(filepath.Join(d, n)); err == nil {
				found = true
				if !used[d] {
					used[d] = true
					extra = append(extra, d)
				}
				break
			}
		}
		if !found {
			missing = append(missing, n)
		}
	}
	return extra, missing
}
