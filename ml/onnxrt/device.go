package onnxrt

// Device-resident values and IoBinding, over ONNX Runtime's C API.
//
// onnxruntime_go v1.27 binds host tensors only and knows one (CPU) memory
// info, so a training step on a GPU copied every weight in and every
// gradient out through Go. This file reaches the rest of the C API from
// the library the bindings loaded (its OrtGetApiBase, found in the already
// loaded module; nothing is loaded twice): memory on a provider's device,
// a session's allocator for it, tensors allocated there, IoBinding of
// those tensors (BindInput, BindOutput, BindOutputToDevice),
// RunWithBinding with run options a context can terminate, and
// SynchronizeBoundInputs/Outputs. Every C object has one Go owner with a
// Close that frees it; errors name the call and the value that failed.

/*
#cgo CFLAGS: -O2 -I${SRCDIR}/ortapi
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
// As onnxruntime_go does: the header's Windows path (wide-character
// strings, specstrings.h) is not what cgo under mingw wants, and nothing
// here passes strings the library reads as paths.
#ifdef _WIN32
#undef _WIN32
#include "onnxruntime_c_api.h"
#define _WIN32
#else
#include "onnxruntime_c_api.h"
#endif

static const OrtApi *dev_api;

static int dev_set_api(uintptr_t addr) {
	const OrtApiBase *base = (const OrtApiBase *)addr;
	if (base == NULL) return 1;
	dev_api = base->GetApi(ORT_API_VERSION);
	return dev_api == NULL ? 2 : 0;
}

// dev_err turns a status into a message the caller frees (NULL: success).
static char *dev_err(OrtStatus *st) {
	if (st == NULL) return NULL;
	const char *m = dev_api->GetErrorMessage(st);
	size_t n = strlen(m);
	char *c = malloc(n + 1);
	if (c != NULL) memcpy(c, m, n + 1);
	dev_api->ReleaseStatus(st);
	return c == NULL ? "out of memory copying an ONNX Runtime error" : c;
}

static char *dev_memory_info(const char *name, int id, OrtMemoryInfo **out) {
	return dev_err(dev_api->CreateMemoryInfo(name, OrtDeviceAllocator, id, OrtMemTypeDefault, out));
}
static void dev_release_memory_info(OrtMemoryInfo *m) { dev_api->ReleaseMemoryInfo(m); }

static char *dev_create_allocator(OrtSession *s, const OrtMemoryInfo *m, OrtAllocator **out) {
	return dev_err(dev_api->CreateAllocator(s, m, out));
}
static void dev_release_allocator(OrtAllocator *a) { dev_api->ReleaseAllocator(a); }
static char *dev_cpu_allocator(OrtAllocator **out) {
	return dev_err(dev_api->GetAllocatorWithDefaultOptions(out));
}

static char *dev_tensor(OrtAllocator *a, const int64_t *shape, size_t rank, OrtValue **out) {
	return dev_err(dev_api->CreateTensorAsOrtValue(a, shape, rank, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, out));
}
static char *dev_tensor_data(OrtValue *v, void **out) {
	return dev_err(dev_api->GetTensorMutableData(v, out));
}
static void dev_release_value(OrtValue *v) { dev_api->ReleaseValue(v); }

static char *dev_binding(OrtSession *s, OrtIoBinding **out) {
	return dev_err(dev_api->CreateIoBinding(s, out));
}
static void dev_release_binding(OrtIoBinding *b) { dev_api->ReleaseIoBinding(b); }
static char *dev_bind_input(OrtIoBinding *b, const char *name, const OrtValue *v) {
	return dev_err(dev_api->BindInput(b, name, v));
}
static char *dev_bind_output(OrtIoBinding *b, const char *name, const OrtValue *v) {
	return dev_err(dev_api->BindOutput(b, name, v));
}
static char *dev_bind_output_to_device(OrtIoBinding *b, const char *name, const OrtMemoryInfo *m) {
	return dev_err(dev_api->BindOutputToDevice(b, name, m));
}
static char *dev_sync_inputs(OrtIoBinding *b) { return dev_err(dev_api->SynchronizeBoundInputs(b)); }
static char *dev_sync_outputs(OrtIoBinding *b) { return dev_err(dev_api->SynchronizeBoundOutputs(b)); }

static char *dev_run_options(OrtRunOptions **out) { return dev_err(dev_api->CreateRunOptions(out)); }
static void dev_release_run_options(OrtRunOptions *r) { dev_api->ReleaseRunOptions(r); }
static char *dev_terminate(OrtRunOptions *r) { return dev_err(dev_api->RunOptionsSetTerminate(r)); }
static char *dev_unterminate(OrtRunOptions *r) { return dev_err(dev_api->RunOptionsUnsetTerminate(r)); }
static char *dev_run_config(OrtRunOptions *r, const char *key, const char *value) {
	return dev_err(dev_api->AddRunConfigEntry(r, key, value));
}
static char *dev_run(OrtSession *s, OrtRunOptions *r, OrtIoBinding *b) {
	return dev_err(dev_api->RunWithBinding(s, r, b));
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"
)

// api is the C API table of the loaded library, found once per process
// (the library is process-wide; see env).
var api struct {
	once sync.Once
	err  error
}

// cAPI makes sure the C API of the library Load loaded is reachable.
func cAPI() error {
	api.once.Do(func() {
		env.Lock()
		path := env.path
		env.Unlock()
		if path == "" {
			api.err = errors.New("ONNX Runtime's C API: no runtime loaded")
			return
		}
		base, err := loadedAPIBase(path)
		if err != nil {
			api.err = fmt.Errorf("ONNX Runtime's C API in %s: %w", path, err)
			return
		}
		switch C.dev_set_api(C.uintptr_t(base)) {
		case 0:
		case 1:
			api.err = fmt.Errorf("ONNX Runtime's C API in %s: OrtGetApiBase returned nothing", path)
		default:
			api.err = fmt.Errorf("ONNX Runtime's C API in %s: the library does not offer API version %d", path, C.ORT_API_VERSION)
		}
	})
	return api.err
}

// status turns a message from the C side into an error about what.
func status(what string, msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	return fmt.Errorf("%s: %s", what, C.GoString(msg))
}

// cSession returns the C session behind s. onnxruntime_go keeps it in an
// unexported field (DynamicAdvancedSession.s.ortSession); reading it through
// reflect is checked by field name and kind, so a release of the bindings
// that moves it fails here with this message rather than misbehaving.
func cSession(s *ort.DynamicAdvancedSession) (*C.OrtSession, error) {
	if s == nil {
		return nil, errors.New("the session is closed")
	}
	inner := reflect.ValueOf(s).Elem().FieldByName("s")
	if !inner.IsValid() || inner.Kind() != reflect.Pointer || inner.IsNil() {
		return nil, errors.New("onnxruntime_go's DynamicAdvancedSession has no session field s (update cSession for this release of the bindings)")
	}
	p := inner.Elem().FieldByName("ortSession")
	if !p.IsValid() || p.Kind() != reflect.Pointer || p.IsNil() {
		return nil, errors.New("onnxruntime_go's AdvancedSession has no C session in ortSession (update cSession for this release of the bindings)")
	}
	return (*C.OrtSession)(p.UnsafePointer()), nil
}

// Memory is where a session's device-resident values live: the memory of
// the device its provider runs on (a CUDA or WebGPU buffer, or the CPU's
// memory for the CPU provider), with the session's allocator for it.
// Values allocated from it must be closed before it; it must be closed
// before its session.
type Memory struct {
	info  *C.OrtMemoryInfo
	alloc *C.OrtAllocator
	// Name is ONNX Runtime's name for the memory ("Cpu", "Cuda",
	// "WebGPU_Buffer", "DML").
	Name string
	// Host reports whether the memory is the CPU's, so that values
	// allocated in it can be read and written from Go (Value.Data).
	Host bool
}

// memoryName is ONNX Runtime's name of the default memory of provider p's
// device (onnxruntime/core/framework/allocator.h), and whether p has one
// that can hold bound values.
func memoryName(p Provider) (string, bool) {
	switch p {
	case CPU:
		return "Cpu", true
	case CUDA:
		return "Cuda", true
	case WebGPU:
		return "WebGPU_Buffer", true
	case DirectML:
		return "DML", true
	}
	return "", false
}

// DeviceMemory returns the memory of the device the session runs on, with
// the session's allocator for it.
func (s *MultiSession) DeviceMemory() (*Memory, error) {
	if err := cAPI(); err != nil {
		return nil, err
	}
	name, ok := memoryName(s.provider)
	if !ok {
		return nil, fmt.Errorf("device memory: %s has no memory Clasifica can bind values in", s.provider)
	}
	cs, err := cSession(s.s)
	if err != nil {
		return nil, fmt.Errorf("device memory: %w", err)
	}
	id := 0
	if s.provider == CUDA || s.provider == DirectML {
		id = s.opt.Device
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	m := &Memory{Name: name, Host: s.provider == CPU}
	if err := status("device memory: memory info "+name, C.dev_memory_info(cname, C.int(id), &m.info)); err != nil {
		return nil, err
	}
	if err := status("device memory: the session's allocator for "+name, C.dev_create_allocator(cs, m.info, &m.alloc)); err != nil {
		C.dev_release_memory_info(m.info)
		return nil, err
	}
	return m, nil
}

// Close releases the memory info and the allocator.
func (m *Memory) Close() {
	if m == nil || m.info == nil {
		return
	}
	C.dev_release_allocator(m.alloc)
	C.dev_release_memory_info(m.info)
	m.info, m.alloc = nil, nil
}

// Value is a float32 tensor allocated by ONNX Runtime, on a device
// (Memory.NewValue) or in the host's memory (NewHostValue). It is bound to
// a session's inputs and outputs by a Binding; Close frees it.
type Value struct {
	v     *C.OrtValue
	shape []int64
	data  []float32 // host values only
}

// Shape returns the value's shape.
func (v *Value) Shape() []int64 { return v.shape }

// Len is the number of floats the value holds.
func (v *Value) Len() int { return elements(v.shape) }

// Data returns the values of a host value, in memory the runtime reads
// and writes directly (valid until Close), or nil for a device value.
func (v *Value) Data() []float32 { return v.data }

func elements(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

// NewValue allocates a float32 tensor of the given shape in m.
func (m *Memory) NewValue(shape ...int64) (*Value, error) {
	if m == nil || m.alloc == nil {
		return nil, errors.New("allocate a value: the memory is closed")
	}
	return newValue(m.alloc, m.Host, "in "+m.Name, shape)
}

// NewHostValue allocates a float32 tensor of the given shape in the host's
// memory with ONNX Runtime's default CPU allocator: the batch going in and
// the loss coming out of a device-resident step.
func NewHostValue(shape ...int64) (*Value, error) {
	if err := cAPI(); err != nil {
		return nil, err
	}
	var a *C.OrtAllocator
	if err := status("allocate a host value: default allocator", C.dev_cpu_allocator(&a)); err != nil {
		return nil, err
	}
	return newValue(a, true, "in host memory", shape)
}

func newValue(a *C.OrtAllocator, host bool, where string, shape []int64) (*Value, error) {
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("allocate a value of shape %v %s: negative dimension", shape, where)
		}
	}
	v := &Value{shape: append([]int64(nil), shape...)}
	cshape := (*C.int64_t)(C.malloc(C.size_t(8 * max(1, len(shape)))))
	defer C.free(unsafe.Pointer(cshape))
	dims := unsafe.Slice((*int64)(unsafe.Pointer(cshape)), max(1, len(shape)))
	copy(dims, shape)
	if err := status(fmt.Sprintf("allocate a value of shape %v %s", shape, where), C.dev_tensor(a, cshape, C.size_t(len(shape)), &v.v)); err != nil {
		return nil, err
	}
	if host {
		var p unsafe.Pointer
		if err := status("read a host value's address", C.dev_tensor_data(v.v, &p)); err != nil {
			C.dev_release_value(v.v)
			return nil, err
		}
		if n := v.Len(); n > 0 {
			v.data = unsafe.Slice((*float32)(p), n)
		} else {
			v.data = []float32{}
		}
	}
	return v, nil
}

// Close frees the value.
func (v *Value) Close() {
	if v == nil || v.v == nil {
		return
	}
	C.dev_release_value(v.v)
	v.v, v.data = nil, nil
}

// Binding binds a MultiSession's inputs and outputs to Values, so that a
// run reads its inputs from where they are and writes its outputs where
// they are bound, with no copy through Go. Bindings stay between runs: a
// training step binds the weights it reads and the ones it writes once,
// and only swaps. A Binding is used by one goroutine at a time and closed
// before its session.
type Binding struct {
	s  *MultiSession
	cs *C.OrtSession
	b  *C.OrtIoBinding
	ro *C.OrtRunOptions
	// names keeps the C strings of the bound names until Close: the
	// binding looks values up by name at each run.
	names map[string]*C.char
}

// NewBinding returns an empty binding for the session.
func (s *MultiSession) NewBinding() (*Binding, error) {
	if err := cAPI(); err != nil {
		return nil, err
	}
	cs, err := cSession(s.s)
	if err != nil {
		return nil, fmt.Errorf("bind values: %w", err)
	}
	b := &Binding{s: s, cs: cs, names: map[string]*C.char{}}
	if err := status("bind values: create the binding", C.dev_binding(cs, &b.b)); err != nil {
		return nil, err
	}
	if err := status("bind values: run options", C.dev_run_options(&b.ro)); err != nil {
		C.dev_release_binding(b.b)
		return nil, err
	}
	return b, nil
}

func (b *Binding) name(n string) *C.char {
	c, ok := b.names[n]
	if !ok {
		c = C.CString(n)
		b.names[n] = c
	}
	return c
}

// BindInput makes the next runs read input name from v (replacing what was
// bound to it).
func (b *Binding) BindInput(name string, v *Value) error {
	if v == nil || v.v == nil {
		return fmt.Errorf("bind input %s: the value is closed", name)
	}
	return status("bind input "+name, C.dev_bind_input(b.b, b.name(name), v.v))
}

// BindOutput makes the next runs write output name into v, which must
// have the output's shape.
func (b *Binding) BindOutput(name string, v *Value) error {
	if v == nil || v.v == nil {
		return fmt.Errorf("bind output %s: the value is closed", name)
	}
	return status("bind output "+name, C.dev_bind_output(b.b, b.name(name), v.v))
}

// BindOutputToDevice lets the runtime allocate output name in m at each
// run. Device-resident training binds its outputs to values of its own
// instead (fixed addresses, no allocation per step); this is for outputs
// whose shape is not known before the run.
func (b *Binding) BindOutputToDevice(name string, m *Memory) error {
	return status("bind output "+name+" to "+m.Name, C.dev_bind_output_to_device(b.b, b.name(name), m.info))
}

// SynchronizeInputs waits until the bound inputs' copies to the device
// have finished.
func (b *Binding) SynchronizeInputs() error {
	return status("synchronise bound inputs", C.dev_sync_inputs(b.b))
}

// SynchronizeOutputs waits until the bound outputs are written, so that a
// host output can be read.
func (b *Binding) SynchronizeOutputs() error {
	return status("synchronise bound outputs", C.dev_sync_outputs(b.b))
}

// Run runs the session on the bound values. Cancelling ctx terminates a
// running step within milliseconds; Run then returns ctx.Err().
func (b *Binding) Run(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.s.s == nil {
		return errors.New("run bound graph: the session is closed")
	}
	terminate := func() {
		if msg := C.dev_terminate(b.ro); msg != nil {
			C.free(unsafe.Pointer(msg))
		}
	}
	err := terminating(ctx, terminate, func() error { return status("run bound graph", C.dev_run(b.cs, b.ro, b.b)) })
	if ctx.Err() != nil {
		// The run options stay terminated; a binding whose context was
		// cancelled is not run again, but reset them all the same.
		_ = status("reset run options", C.dev_unterminate(b.ro))
		return ctx.Err()
	}
	return err
}

// SetGraphID makes the binding's runs the captured graph numbered id, in a
// session with Options.GraphCapture: the provider captures the graph at one
// of its first runs and replays it at the next ones, which must read and
// write the same device values, of the same shapes. Bindings of one
// session whose values differ need their own numbers (from 1; -1 runs
// without a graph). The CPU ignores the number.
func (b *Binding) SetGraphID(id int) error {
	key, value := C.CString("gpu_graph_id"), C.CString(strconv.Itoa(id))
	defer C.free(unsafe.Pointer(key))
	defer C.free(unsafe.Pointer(value))
	return status(fmt.Sprintf("run options: captured graph %d", id), C.dev_run_config(b.ro, key, value))
}

// Close releases the binding (not the values bound to it).
func (b *Binding) Close() {
	if b == nil || b.b == nil {
		return
	}
	C.dev_release_binding(b.b)
	C.dev_release_run_options(b.ro)
	for _, c := range b.names {
		C.free(unsafe.Pointer(c))
	}
	b.b, b.ro, b.names = nil, nil, nil
}
