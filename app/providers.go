package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/clasifica/clasifica/ml/onnxrt"
)

// ProviderStatus says whether an execution provider can run the image
// model with this ONNX Runtime library on this machine, in the form the
// command line's JSON and the Settings list show.
type ProviderStatus struct {
	// Provider is the provider's id: "cuda", "webgpu", "cpu", …
	Provider onnxrt.Provider `json:"provider"`
	// Name is its display name: "CUDA", "WebGPU", "CPU", …
	Name      string `json:"name"`
	Available bool   `json:"available"`
	// Device names the adapter or card where the system reports it.
	Device string `json:"device,omitempty"`
	// Reason says why the provider cannot be used.
	Reason string `json:"reason,omitempty"`
}

func statusOf(st onnxrt.Status) ProviderStatus {
	return ProviderStatus{Provider: st.Provider, Name: st.Provider.String(), Available: st.Available, Device: st.Device, Reason: st.Reason}
}

// RunsOn says where a session really runs: the provider ONNX Runtime
// assigned the model's layers to, which may differ from the one asked for.
type RunsOn struct {
	// Requested is the provider asked for: "auto" or a provider's id.
	Requested onnxrt.Provider `json:"requested"`
	// Provider is the provider's id that runs the layers.
	Provider onnxrt.Provider `json:"provider"`
	// Name describes it for people: "WebGPU", "CUDA (NVIDIA H200)", "CPU".
	Name string `json:"name"`
	// Device names the adapter or card where the system reports it.
	Device string `json:"device,omitempty"`
	// Partial, when set, says that some layers run on the CPU and why.
	Partial string `json:"partial,omitempty"`
	// Skipped lists the providers tried first, each with the reason it
	// could not run the model.
	Skipped []ProviderStatus `json:"skipped,omitempty"`
}

func runsOn(pl onnxrt.Placement) RunsOn {
	r := RunsOn{Requested: pl.Requested, Provider: pl.Provider, Name: pl.String(), Device: pl.Device, Partial: pl.Partial}
	for _, u := range pl.Skipped {
		r.Skipped = append(r.Skipped, ProviderStatus{Provider: u.Provider, Name: u.Provider.String(), Reason: u.Reason})
	}
	return r
}

// RunsOn says where the engine's session really runs.
func (e *Engine) RunsOn() RunsOn { return runsOn(e.Session.Placement()) }

// providerCache keeps what probing found, per library file: probing a
// GPU provider starts its driver, which takes a second or more.
type providerCache struct {
	mu   sync.Mutex
	mem  map[string][]ProviderStatus
	file string
}

// providerKey identifies a library file and its version: a library
// replaced in place (an update, a GPU build copied over) is probed again.
func providerKey(rt *onnxrt.Runtime) string {
	key := rt.Path + "|" + rt.Version
	if st, err := os.Stat(rt.Path); err == nil {
		key += fmt.Sprintf("|%d|%d", st.Size(), st.ModTime().UnixNano())
	}
	return key
}

func (c *providerCache) get(key string) ([]ProviderStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.mem[key]; ok {
		return s, true
	}
	var disk map[string][]ProviderStatus
	if b, err := os.ReadFile(c.file); err == nil && json.Unmarshal(b, &disk) == nil {
		if s, ok := disk[key]; ok && len(s) > 0 {
			c.mem[key] = s
			return s, true
		}
	}
	return nil, false
}

func (c *providerCache) put(key string, s []ProviderStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mem[key] = s
	// Read again and written under the file's lock, so that another
	// Clasifica probing another library at once keeps its answer too.
	updateJSON(c.file, "saving its probe of the execution providers in "+c.file, func(disk map[string][]ProviderStatus) { disk[key] = s })
}

// Providers lists the execution providers worth offering on this system,
// in the order Automatic tries them, each with whether it can run the
// image model here and, if not, why. The answer is cached per library
// file (in memory and in the cache folder); refresh probes again.
// runtime names the library as EngineOptions.Runtime does.
func (a *App) Providers(runtime string, refresh bool) ([]ProviderStatus, error) {
	rt, err := LoadRuntime(runtime, a.Dirs)
	if err != nil {
		return nil, err
	}
	if a.providers == nil {
		a.providers = &providerCache{mem: map[string][]ProviderStatus{}, file: filepath.Join(a.Dirs.Cache, "providers.json")}
	}
	key := providerKey(rt)
	if !refresh {
		if s, ok := a.providers.get(key); ok {
			return s, nil
		}
	}
	var out []ProviderStatus
	for _, st := range rt.ProbeAll(onnxrt.Options{}) {
		out = append(out, statusOf(st))
	}
	a.providers.put(key, out)
	return out, nil
}
