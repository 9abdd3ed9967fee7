package app

import (
	"slices"

	"github.com/clasifica/clasifica/ml/onnxrt"
)

// Settings are the user's choices that persist between runs. The desktop
// app keeps them in the settings file (see LoadSettings); the command line
// takes the same choices as flags.
type Settings struct {
	// Backbone is the id of the backbone to train with; empty means the
	// default (ImageNet when installed).
	Backbone string `json:"backbone"`
	// Runtime is the ONNX Runtime library; empty means FindRuntime's search.
	Runtime string `json:"runtime"`
	// Provider is the execution provider ("auto", "cpu", "cuda", …).
	Provider string `json:"provider"`
	// Threads is the number of inference threads; 0 means one per core.
	Threads int `json:"threads"`
	// LowPower asks WebGPU for the power-saving graphics adapter (the
	// integrated one of a laptop with two).
	LowPower bool `json:"lowPower"`
	// Precision is the image model's arithmetic: "auto", "float" or
	// "int8" (see Precision); empty means auto.
	Precision string `json:"precision"`
	// Appearance is the desktop app's colours ("system", "light" or
	// "dark"); the core only keeps it. Empty means the system's.
	Appearance string `json:"appearance"`
	// RecentFolders and RecentModels list recently used photo folders and
	// model files, most recent first.
	RecentFolders []string `json:"recentFolders"`
	RecentModels  []string `json:"recentModels"`
}

// MaxRecent is the length of the recent-files lists.
const MaxRecent = 8

// EngineOptions returns the engine options the settings choose.
func (s Settings) EngineOptions() EngineOptions {
	p, err := onnxrt.ParseProvider(s.Provider)
	if err != nil {
		p = onnxrt.Auto
	}
	prec, err := ParsePrecision(s.Precision)
	if err != nil {
		prec = PrecisionAuto
	}
	return EngineOptions{Runtime: s.Runtime, Backbone: s.Backbone, Provider: p, Threads: s.Threads, LowPower: s.LowPower,
		Precision: prec}
}

// AddRecent returns list with item moved or added to the front, at most
// MaxRecent long.
func AddRecent(list []string, item string) []string {
	out := []string{item}
	for _, s := range list {
		if s != item && len(out) < MaxRecent {
			out = append(out, s)
		}
	}
	return slices.Clip(out)
}
