package onnxrt

import (
	"bufio"
	"debug/elf"
	"debug/pe"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// explain turns ONNX Runtime's reason for refusing p into one that says
// what to do: for CUDA, which file is missing and where the GPU build of
// ONNX Runtime comes from.
func (r *Runtime) explain(p Provider, reason string) string {
	switch p {
	case CUDA:
		return r.explainCUDA(reason)
	case WebGPU:
		if strings.Contains(reason, "Failed to get a WebGPU adapter") || strings.Contains(reason, "Failed to get a WebGPU device") {
			hint := "no graphics adapter that WebGPU can use"
			if runtime.GOOS == "linux" {
				hint += " (on Linux, WebGPU needs a Vulkan driver for a GPU: libvulkan1 and the card's driver; software Vulkan such as llvmpipe is refused)"
			}
			return hint + ": " + lastClause(reason)
		}
	case DirectML, CoreML:
		if strings.Contains(reason, "not supported in this build") {
			return "this ONNX Runtime library has no " + p.String() + " provider"
		}
	}
	return reason
}

// lastClause keeps the end of ONNX Runtime's messages, which start with a
// source location and the failed condition.
func lastClause(s string) string {
	if i := strings.LastIndex(s, " was false. "); i >= 0 {
		return s[i+len(" was false. "):]
	}
	return s
}

// gpuBuild names the official GPU build of ONNX Runtime for this system.
func (r *Runtime) gpuBuild() string {
	v := r.Version
	switch runtime.GOOS {
	case "windows":
		return fmt.Sprintf("onnxruntime-win-x64-gpu-%s.zip from https://github.com/microsoft/onnxruntime/releases/tag/v%s (point the runtime setting at its lib\\onnxruntime.dll)", v, v)
	case "linux":
		return fmt.Sprintf("onnxruntime-linux-x64-gpu-%s.tgz from https://github.com/microsoft/onnxruntime/releases/tag/v%s (point --runtime at its lib/libonnxruntime.so.1)", v, v)
	}
	return ""
}

func (r *Runtime) explainCUDA(reason string) string {
	if runtime.GOOS == "darwin" {
		return "CUDA does not run on macOS"
	}
	if strings.Contains(reason, "Unknown provider") || strings.Contains(reason, "not supported in this build") {
		return "this ONNX Runtime library has no CUDA provider; the GPU build is " + r.gpuBuild()
	}
	cudaLib := CUDAProvider(r.Path)
	for _, p := range []string{providerLibrary(r.Path, "onnxruntime_providers_shared"), cudaLib} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Sprintf("%s is not next to %s, so this is a CPU-only build of ONNX Runtime; CUDA needs the GPU build, %s", filepath.Base(p), r.Path, r.gpuBuild())
		}
	}
	if missing, looked := missingDeps(cudaLib); len(missing) > 0 {
		return fmt.Sprintf("%s needs %s, not found in %s: install the CUDA and cuDNN versions this ONNX Runtime release needs (see https://onnxruntime.ai/docs/execution-providers/CUDA-ExecutionProvider.html#requirements) or add their folder to %s",
			filepath.Base(cudaLib), strings.Join(missing, ", "), strings.Join(looked, ", "), libPathVar())
	}
	return reason + " (the CUDA provider's files are there: is an NVIDIA driver installed and a GPU present?)"
}

func libPathVar() string {
	if runtime.GOOS == "windows" {
		return "PATH"
	}
	return "LD_LIBRARY_PATH"
}

// missingDeps lists the CUDA and cuDNN libraries that lib links against
// and that are in none of the folders the system loader searches, and
// those folders. It is a diagnosis, not the loader: it only looks for the
// files.
func missingDeps(lib string) (missing, looked []string) {
	var needed []string
	if runtime.GOOS == "windows" {
		f, err := pe.Open(lib)
		if err != nil {
			return nil, nil
		}
		needed, _ = f.ImportedLibraries()
		f.Close()
	} else {
		f, err := elf.Open(lib)
		if err != nil {
			return nil, nil
		}
		needed, _ = f.ImportedLibraries()
		f.Close()
	}
	looked = loaderDirs(filepath.Dir(lib))
	for _, n := range needed {
		low := strings.ToLower(n)
		if !strings.HasPrefix(low, "libcu") && !strings.HasPrefix(low, "cu") && !strings.Contains(low, "cudnn") && !strings.HasPrefix(low, "libnv") {
			continue
		}
		found := false
		for _, d := range looked {
			if _, err := os.Stat(filepath.Join(d, n)); err == nil {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	return missing, looked
}

// loaderDirs lists the folders the system's library loader searches, as
// far as files say: the library's own folder, the environment's path, and
// on Linux the ld.so configuration and the usual CUDA folder.
func loaderDirs(own string) []string {
	dirs := []string{own}
	if runtime.GOOS == "windows" {
		dirs = append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
		return dirs
	}
	dirs = append(dirs, filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))...)
	confs, _ := filepath.Glob("/etc/ld.so.conf.d/*.conf")
	for _, c := range append([]string{"/etc/ld.so.conf"}, confs...) {
		f, err := os.Open(c)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "/") {
				dirs = append(dirs, line)
			}
		}
		f.Close()
	}
	dirs = append(dirs, "/usr/local/cuda/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib")
	seen := map[string]bool{}
	out := dirs[:0]
	for _, d := range dirs {
		if d != "" && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// deviceName names the card p runs on where the system says it without
// help from ONNX Runtime, which does not report it: today the NVIDIA
// driver's name for the GPU CUDA uses on Linux. Empty when unknown.
func deviceName(p Provider, opt Options) string {
	if p != CUDA || runtime.GOOS != "linux" {
		return ""
	}
	infos, _ := filepath.Glob("/proc/driver/nvidia/gpus/*/information")
	sort.Strings(infos) // PCI bus order
	// CUDA numbers GPUs fastest first unless told to use the bus order, so
	// the index only matches the driver's list with one GPU or that order.
	if len(infos) == 0 || opt.Device >= len(infos) || (len(infos) > 1 && os.Getenv("CUDA_DEVICE_ORDER") != "PCI_BUS_ID") {
		return ""
	}
	b, err := os.ReadFile(infos[opt.Device])
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
