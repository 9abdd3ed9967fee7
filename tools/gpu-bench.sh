#!/bin/sh
# The CPU side of classifying a folder on a machine with a GPU (issue 22):
# the decode row (decoding and shrinking to 299×299, photos/s per core, with
# Go's decoder and with libjpeg-turbo scaled) and the end-to-end rate of
# `clasifica bench --data` beside the model-alone rate, for the 500×375
# sample photos and for 12-megapixel photos made by tools/largephotos, with
# each JPEG decoder. Ends with a summary; prints torchvision's decode_jpeg
# rate on the same files where Python has torchvision.
#
#   tools/gpu-bench.sh [PROVIDER]     (default: auto; e.g. cuda, webgpu, cpu)
#
# The ONNX Runtime library is $ORT_GPU_LIB (the official GPU build, for
# CUDA) or $ONNXRUNTIME_LIB or .deps/onnxruntime's; the offline backbone
# $CLASIFICA_TEST_BACKBONE or .deps/backbones. COPIES (default 8) repeats
# each folder's photos, as hard links, so that a fast GPU has seconds of
# work; LARGE (default 20) is how many 12-megapixel photos to make.
set -eu
cd "$(dirname "$0")/.."
root=$PWD
provider=${1:-auto}
lib=${ORT_GPU_LIB:-${ONNXRUNTIME_LIB:-$root/.deps/onnxruntime/libonnxruntime.so.1}}
backbone=${CLASIFICA_TEST_BACKBONE:-$root/.deps/backbones/nsfwjs-inceptionv3}
copies=${COPIES:-8}
large=${LARGE:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== machine"
uname -srm
grep -m1 'model name' /proc/cpuinfo || true
echo "cores: $(nproc)"
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L || true; fi
echo "runtime: $lib"

go build -o "$work/clasifica" .
export CLASIFICA_HOME="$work/home"

# Folders of COPIES hard links to each photo.
replicate() { # src dst
	i=0
	while [ $i -lt "$copies" ]; do
		mkdir -p "$2/$i" && cp -rl "$1/." "$2/$i/"
		i=$((i + 1))
	done
}
echo
echo "== making $large 12-megapixel photos"
go run ./tools/largephotos -src testdata/photos -dst "$work/large-src" -n "$large"
replicate testdata/photos "$work/small"
replicate "$work/large-src" "$work/large"

summary=$work/summary
: >"$summary"
for set in small large; do
	n=$(find "$work/$set" -name '*.jpg' | wc -l)
	for dec in go auto; do
		echo
		echo "== $set photos ($n), --jpeg-decoder $dec"
		out=$work/bench-$set-$dec
		"$work/clasifica" bench --runtime "$lib" --backbone "$backbone" --provider "$provider" \
			--jpeg-decoder "$dec" --data "$work/$set" --batches 8,32 --seconds 3 --head=false \
			>"$out" 2>"$out.err" || { echo "bench failed: $(tail -n 3 "$out.err")"; continue; }
		cat "$out"
		row=$(grep -E '^[A-Za-z]+ ' "$out" | sed -n 3p | awk '{print "model alone batch 8: "$(NF-2)", batch 32: "$(NF-1)"; end to end: "$NF" photos/s"}')
		echo "$set ($n photos), $dec decoder: $row" >>"$summary"
		if [ $dec = auto ]; then
			grep 'Decoding and shrinking' "$out" | sed "s/^/$set: /" >>"$summary"
		fi
	done
done
if command -v /usr/bin/python3 >/dev/null && /usr/bin/python3 -c 'import torchvision' 2>/dev/null; then
	for set in small large; do
		echo "$set: $(/usr/bin/python3 tools/torchvision-decode.py "$work/$set/0" 3)" >>"$summary"
	done
fi
echo
echo "== summary"
cat "$summary"
