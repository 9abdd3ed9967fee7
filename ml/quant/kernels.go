package quant

import (
	"runtime"

	"github.com/clasifica/clasifica/ml/onnx"
	"golang.org/x/sys/cpu"
)

// SaturatingProducts reports whether ONNX Runtime multiplies uint8
// activations by int8 kernels on this CPU with vpmaddubsw (AVX2, or
// AVX-512BW), which adds each pair of products in 16 bits and saturates:
// x86 without VNNI (AVX512-VNNI or AVX-VNNI; CPUs with AMX have VNNI).
// Arm's dot-product instructions sum in 32 bits.
func SaturatingProducts() bool {
	return (runtime.GOARCH == "amd64" || runtime.GOARCH == "386") && !cpu.X86.HasAVX512VNNI && !cpu.X86.HasAVXVNNI
}

// BuildKind names the 8-bit model Build makes on this CPU: "int8", or
// "int8-u8stem" where products saturate (SaturatingProducts), whose stem
// kernels are uint8. The two compute the same features; the name keeps
// them apart on disk, where a backbone's folder may be shared by CPUs of
// both kinds.
func BuildKind() string {
	if SaturatingProducts() {
		return "int8-u8stem"
	}
	return "int8"
}

// buildOptions are the options Build quantises with. Where products
// saturate, the stem's kernels are uint8 (zero point 128): on the
// built-in samples, under tools/cpumask as an AVX2-only CPU, the stem is
// where the saturation moved the features (mean-centred cosine 0.976 and
// 0.967 against 0.996 and 0.998 with VNNI); its kernels in uint8 gave the
// VNNI model's features again, while uint8 kernels in any other block, or
// 7-bit kernels everywhere, did not. uint8×uint8 products are widened to
// 16 bits before multiplying, which costs speed, so only the stem pays.
func buildOptions(m *onnx.ModelProto, saturating bool) Options {
	if !saturating {
		return Options{}
	}
	blocks := Blocks(m)
	return Options{Unsigned: func(node string) bool { return blocks[node] == "stem" }}
}
