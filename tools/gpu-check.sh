#!/bin/sh
# Checks Clasifica's execution providers on a machine with a GPU: for each
# ONNX Runtime library given, the speed table of every provider this
# system may have (`clasifica bench --provider all`) and the test that
# each available provider computes the CPU's features of sample photos
# (relative L2 at most 1e-3). Ends with one summary line per provider.
#
#   tools/gpu-check.sh [LIB...]
#
# Without arguments it checks $ONNXRUNTIME_LIB (or .deps/onnxruntime's,
# the library Clasifica ships: CPU and WebGPU on Linux) and, when set,
# $ORT_GPU_LIB: the official GPU build (onnxruntime-linux-x64-gpu-*.tgz's
# lib/libonnxruntime.so.1), which brings CUDA. A process loads one
# library, so each runs on its own. The offline backbone comes from
# $CLASIFICA_TEST_BACKBONE or .deps/backbones (`make deps`).
set -eu
cd "$(dirname "$0")/.."
root=$PWD
if [ $# -eq 0 ]; then
	set -- "${ONNXRUNTIME_LIB:-$root/.deps/onnxruntime/libonnxruntime.so.1}"
	if [ -n "${ORT_GPU_LIB:-}" ]; then set -- "$@" "$ORT_GPU_LIB"; fi
fi
backbone=${CLASIFICA_TEST_BACKBONE:-$root/.deps/backbones/nsfwjs-inceptionv3}
seconds=${SECONDS_PER_BATCH:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== machine"
uname -srm
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L || true; else echo "no nvidia-smi"; fi
if command -v vulkaninfo >/dev/null 2>&1; then vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|driverName' || true; else echo "no vulkaninfo (WebGPU on Linux needs a Vulkan driver)"; fi

go build -o "$work/clasifica" .
summary=$work/summary
: >"$summary"
n=0
for lib in "$@"; do
	n=$((n + 1))
	name=$(basename "$(dirname "$(dirname "$lib")")")/$(basename "$lib")
	echo
	echo "== $lib"
	export CLASIFICA_HOME="$work/home$n"
	"$work/clasifica" setup --runtime "$lib" --offline-backbone "$backbone" --timeout 1s >/dev/null 2>&1 || true
	# A failed command must not stop the other library's check.
	"$work/clasifica" bench --runtime "$lib" --provider all --seconds "$seconds" >"$work/bench$n" 2>"$work/bench$n.err" || echo "bench failed: $(tail -n 3 "$work/bench$n.err")"
	cat "$work/bench$n"
	ONNXRUNTIME_LIB=$lib CLASIFICA_TEST_BACKBONE=$backbone go test -count=1 -run 'TestProvidersAgree$' -v ./app >"$work/test$n" 2>&1 && ok=PASS || ok=FAIL
	grep -E 'agree |unavailable |--- |FAIL|Error' "$work/test$n" || true
	for p in $(grep -oE '^(CUDA|DirectML|CoreML|WebGPU|CPU) ' "$work/bench$n" | tr -d ' '); do
		row=$(grep -E "^$p " "$work/bench$n" | head -n 1 | cut -c11- | tr -s ' ')
		check=$(grep -oE "(agree|unavailable) $p: .*" "$work/test$n" | head -n 1 | cut -d' ' -f3-)
		case $row in
		unavailable*) line="unavailable: $(echo "${check:-$row}" | cut -c1-160)" ;;
		*) line="runs on ${row% * * *}; images/s at batch 1/8/32: $(echo "$row" | awk '{print $(NF-2)" / "$(NF-1)" / "$NF}'); features: ${check:-not checked}" ;;
		esac
		echo "$name $p: $line [feature test $ok]" >>"$summary"
	done
done
echo
echo "== summary: one line per library and provider"
cat "$summary"
