#!/bin/sh
# Packs what a lent GPU machine needs into three folders of at most ~36 MB
# each (a device call carries 64 MiB, the checkout included), to be carried
# by three back-to-back calls (the machine keeps /tmp only while warm):
#
#   .devA  the CUDA provider's first half, the ONNX Runtime library, X11's libraries
#   .devB  the CUDA provider's second half, the offline backbone
#   .devC  clasifica, profile-step and a model trained here (for label agreement)
#
#   tools/device/pack.sh CUDA_PROVIDER_TGZ [MODEL]
#
# CUDA_PROVIDER_TGZ is npm's com.github.asus4.onnxruntime.linux-x64-gpu
# package (`npm pack com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9`: the
# CUDA 13 provider of ONNX Runtime 1.29, which loads beside the shipped
# 1.30 core). Its code for GPUs other than the H200's (sm_90) is blanked
# first (prune-fatbin.py). MODEL defaults to a species model trained on
# the sample pets. Then, on the device tool, one right after the other:
#
#   run: bash tools/device/stage.sh A   carry [".devA"]
#   run: bash tools/device/stage.sh B   carry [".devB"]
#   run: bash tools/device/stage.sh C   carry [".devC", ".gl"]   (measure.sh; ~4 minutes)
#
# .gl holds the Vulkan loader and GL debs (WebGPU through Vulkan); the
# three folders and .gl must be in .git/info/exclude.
set -eu
cd "$(dirname "$0")/../.."
root=$PWD
tgz=$1
model=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf .devA .devB .devC
mkdir -p .devA .devB .devC
tar -xzf "$tgz" -C "$work" package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so package/Plugins/Linux/x64/libonnxruntime_providers_shared.so
lib=$work/package/Plugins/Linux/x64
python3 tools/device/prune-fatbin.py "$lib/libonnxruntime_providers_cuda.so" 90 "$work/cuda90.so"
(cd "$work" && sha256sum cuda90.so) >.devB/cuda90.sha256
xz -6 -T0 -c "$work/cuda90.so" | split -b 19500000 - "$work/cuda.part."
mv "$work/cuda.part.aa" "$lib/libonnxruntime_providers_shared.so" .devA/
mv "$work/cuda.part.ab" .devB/
xz -9 -T0 -c .deps/onnxruntime/libonnxruntime.so.1 >.devA/ort.xz
(cd .devA && apt-get download libx11-6 libxau6 libxcb1 libxdmcp6 libbsd0 libmd0 >/dev/null 2>&1)
tar -C .deps/backbones -cf - nsfwjs-inceptionv3 | xz -9 -T0 >.devB/bb.tar.xz
go build -ldflags='-s -w' -o "$work/clasifica" . && go build -ldflags='-s -w' -o "$work/profile-step" ./tools/profile-step
if [ -z "$model" ]; then
	model=$work/pets.clasifica
	ONNXRUNTIME_LIB=$root/.deps/onnxruntime/libonnxruntime.so.1 CLASIFICA_HOME=$work/home "$work/clasifica" train \
		--data testdata/photos/pets --backbone .deps/backbones/nsfwjs-inceptionv3 --precision float --epochs 10 --out "$model" >/dev/null
fi
xz -6 -T0 -c "$work/clasifica" >.devC/clasifica.xz
xz -6 -T0 -c "$work/profile-step" >.devC/profile-step.xz
xz -6 -T0 -c "$model" >.devC/model.clasifica.xz
du -sh .devA .devB .devC
