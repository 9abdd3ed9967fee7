package app

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/clasifica/clasifica/ml/onnxrt"
)

// CUDAAdvice tells a user with an NVIDIA card who cannot use CUDA what
// CUDA would give and how to get it.
type CUDAAdvice struct {
	// GPU names the card the driver reports ("NVIDIA H200").
	GPU string `json:"gpu"`
	// Gain says what CUDA gives over what runs now, from a measurement.
	Gain string `json:"gain"`
	// Steps say how to get it, in order.
	Steps []string `json:"steps"`
	// Reason is why CUDA does not run now (the provider's reason).
	Reason string `json:"reason"`
}

// AdviseCUDA returns advice for getting CUDA where an NVIDIA GPU is
// present and the CUDA provider is not available in st (Providers'
// answer); nil where there is no NVIDIA GPU or CUDA already works. gpus
// is what onnxrt.NVIDIAGPUs reports.
func AdviseCUDA(st []ProviderStatus, gpus []string) *CUDAAdvice {
	if len(gpus) == 0 || runtime.GOOS == "darwin" {
		return nil
	}
	var cuda *ProviderStatus
	webgpu := false
	for i := range st {
		switch st[i].Provider {
		case onnxrt.CUDA:
			cuda = &st[i]
		case onnxrt.WebGPU, onnxrt.DirectML:
			webgpu = webgpu || st[i].Available
		}
	}
	if cuda != nil && cuda.Available {
		return nil
	}
	adv := &CUDAAdvice{GPU: gpus[0]}
	if cuda != nil {
		adv.Reason = cuda.Reason
	}
	// One measurement, on one card, is all there is to quote; say which.
	if webgpu {
		adv.Gain = "With CUDA this card would classify about 4 times as fast as it does now through WebGPU, and fine-tune about 4 times as fast " +
			"(measured on an NVIDIA H200: 2,563 against 638 photos a second at batch 32; 3.2 against 13.3 seconds per 1,000 photos of fine-tuning)."
	} else {
		adv.Gain = "With CUDA this card would do the work the processor does now: on an NVIDIA H200 it classified 2,563 photos a second against 84 on 16 processor cores."
	}
	lib := "lib/libonnxruntime.so.1"
	build := fmt.Sprintf("onnxruntime-linux-x64-gpu-%s.tgz", RuntimeVersion)
	setup := "clasifica setup --runtime " + build
	needs := "CUDA 12 and cuDNN 9 (from NVIDIA's CUDA installer, your Linux distribution's packages, or a Python environment's nvidia-cublas-cu12, nvidia-cudnn-cu12 and nvidia-cuda-runtime-cu12 packages, which Clasifica finds by itself)"
	if runtime.GOOS == "windows" {
		lib = `lib\onnxruntime.dll`
		build = fmt.Sprintf("onnxruntime-win-x64-gpu-%s.zip", RuntimeVersion)
		setup = "clasifica setup --runtime " + build
		needs = "CUDA 12 and cuDNN 9 from NVIDIA, their folders on PATH"
	}
	adv.Steps = []string{
		fmt.Sprintf("Download ONNX Runtime's GPU build of the same release Clasifica ships, %s, from https://github.com/microsoft/onnxruntime/releases/tag/v%s (a GPU build of another release is not supported).", build, RuntimeVersion),
		fmt.Sprintf("Install it for Clasifica: run `%s`, or choose its %s as the ONNX Runtime here (its CUDA files must stay next to it).", setup, lib),
		"It needs " + needs + ".",
		"Restart Clasifica: CUDA then appears above as working, and Automatic uses it.",
	}
	return adv
}

// NVIDIAGPUs names the NVIDIA cards the system's driver reports (see
// onnxrt.NVIDIAGPUs), for AdviseCUDA.
func NVIDIAGPUs() []string { return onnxrt.NVIDIAGPUs() }

// CUDALibraries says where the CUDA and cuDNN libraries that the CUDA
// provider next to the ONNX Runtime library lib needs are, when the
// system's loader would not find them: extra lists the folders (CUDA
// toolkits, Python's nvidia-* packages) that PrepareCUDA puts on the
// loader's path, missing the libraries found nowhere.
func CUDALibraries(lib string) (extra, missing []string) {
	return onnxrt.CUDAFolders(lib, onnxrt.CUDASearchDirs())
}

// reexecVar marks a process that Clasifica started again with the CUDA
// libraries' folders on the loader's path, so that it never loops.
const reexecVar = "CLASIFICA_CUDA_PATH_SET"

// PrepareCUDA makes the CUDA and cuDNN libraries that the CUDA provider
// next to the ONNX Runtime library needs loadable, where they are
// installed but outside the loader's search path (a CUDA toolkit's
// folder, PyTorch's nvidia-* packages). The loader reads LD_LIBRARY_PATH
// only when a process starts, so the process is started again with those
// folders added: PrepareCUDA then does not return. It must run before the
// ONNX Runtime library is loaded; explicit names the library as
// LoadRuntime does. It does nothing on other systems, when the library has
// no CUDA provider next to it, or when nothing is missing or found.
func PrepareCUDA(explicit string, dirs Dirs) {
	if runtime.GOOS != "linux" || os.Getenv(reexecVar) != "" {
		return
	}
	lib, err := FindRuntime(explicit, dirs)
	if err != nil {
		return
	}
	extra, _ := CUDALibraries(lib)
	if len(extra) == 0 {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	path := strings.Join(append(slices.Clone(extra), filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))...), string(filepath.ListSeparator))
	env := append(os.Environ(), "LD_LIBRARY_PATH="+path, reexecVar+"=1")
	// Exec only returns on failure; the process then goes on without CUDA,
	// and the provider's reason names the missing files.
	_ = syscall.Exec(exe, os.Args, env)
}

// RuntimeArg returns the value of a --runtime flag among a command line's
// arguments, for PrepareCUDA, which runs before the commands parse their
// flags. Empty when there is none.
func RuntimeArg(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, f := range []string{"--runtime", "-runtime"} {
			if a == f && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, f+"="); ok {
				return v
			}
		}
	}
	return ""
}
