#!/bin/sh
# Issue 22 on a machine with a GPU, in two parts.
#
#   tools/gpu-bench.sh [PROVIDER]      the CPU side of classifying a folder
#   tools/gpu-bench.sh fine-tune       fine-tuning on the GPU (about 4 minutes)
#
# The first part (PROVIDER defaults to auto; e.g. cuda, webgpu, cpu): the
# decode row (decoding and shrinking to 299×299, photos/s per core, with
# Go's decoder and with libjpeg-turbo scaled) and the end-to-end rate of
# `clasifica bench --data` beside the model-alone rate, for the 500×375
# sample photos and for 12-megapixel photos made by tools/largephotos, with
# each JPEG decoder. Ends with a summary; prints torchvision's decode_jpeg
# rate on the same files where Python has torchvision. COPIES (default 8)
# repeats each folder's photos, as hard links, so that a fast GPU has
# seconds of work; LARGE (default 20) is how many 12-megapixel photos to
# make.
#
# The second part (`fine-tune`): bench's fine-tuning row (mixed9, mixed10
# and the head, batch 32) on WebGPU, and on CUDA where its provider library
# is present (libonnxruntime_providers_cuda.so beside the runtime, or
# $ORT_GPU_LIB), each with the weights kept on the device (updated in the
# graph) and with the update in the program (weights in, gradients out
# every step); then tools/profile-step's summary of a device-resident step
# on each: time by execution provider and every node not on the GPU (CPU
# fallbacks, copies); and the same three steps trained both ways, with how
# far the weights differ. FT_CPU=1 adds the same rows on the CPU. The
# whole part keeps to FT_BUDGET seconds (default 270): a step that would
# start with less than 20 s left is skipped and says so, and none runs
# longer than what is left (at most 150 s).
#
# The device machine has no Go: the programs come from $BIN (default bin/):
# clasifica, profile-step and largephotos, built here with
#   go build -o bin/clasifica . && go build -o bin/profile-step ./tools/profile-step &&
#   go build -o bin/largephotos ./tools/largephotos
# Where Go is installed they are built afresh.
#
# The ONNX Runtime library is $ORT_GPU_LIB (the official GPU build, for
# CUDA) or $ONNXRUNTIME_LIB or .deps/onnxruntime's; the offline backbone
# $CLASIFICA_TEST_BACKBONE or .deps/backbones.
set -eu
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-auto}
lib=${ORT_GPU_LIB:-${ONNXRUNTIME_LIB:-$root/.deps/onnxruntime/libonnxruntime.so.1}}
shipped=${ONNXRUNTIME_LIB:-$root/.deps/onnxruntime/libonnxruntime.so.1}
backbone=${CLASIFICA_TEST_BACKBONE:-$root/.deps/backbones/nsfwjs-inceptionv3}
bin=${BIN:-$root/bin}
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

# need NAME PACKAGE: $bin/NAME, built afresh where Go is installed (so
# that it is never stale), else as it was carried here.
need() {
	if command -v go >/dev/null 2>&1; then
		mkdir -p "$bin" && go build -o "$bin/$1" "$2"
	elif [ ! -x "$bin/$1" ]; then
		echo "gpu-bench: $bin/$1 is missing and there is no Go here to build it (go build -o bin/$1 $2)" >&2
		exit 1
	fi
}
export CLASIFICA_HOME="$work/home"

if [ "$mode" = fine-tune ]; then
	# limit: seconds the next command may take, or nothing when out of time.
	limit() {
		left=$((deadline - $(date +%s)))
		if [ $left -lt 20 ]; then return 1; fi
		if [ $left -gt 150 ]; then left=150; fi
		echo $left
	}
	# why RC ERRFILE: what went wrong, in one line.
	why() {
		if [ "$1" = 124 ]; then echo "timed out after $t s"; else tail -n 1 "$2"; fi
	}
	need clasifica .
	need profile-step ./tools/profile-step
	deadline=$(($(date +%s) + ${FT_BUDGET:-270}))
	providers=webgpu
	cudalib=""
	if [ -n "${ORT_GPU_LIB:-}" ]; then
		cudalib=$ORT_GPU_LIB
	elif [ -e "$(dirname "$shipped")/libonnxruntime_providers_cuda.so" ]; then
		cudalib=$shipped
	fi
	if [ -n "$cudalib" ]; then providers="$providers cuda"; fi
	if [ "${FT_CPU:-0}" = 1 ]; then providers="$providers cpu"; fi
	summary=$work/summary
	: >"$summary"
	for p in $providers; do
		plib=$shipped
		if [ $p = cuda ]; then plib=$cudalib; fi
		for update in device host; do
			echo
			echo "== fine-tuning on $p, update on the $update ($plib)"
			out=$work/ft-$p-$update
			if ! t=$(limit); then
				echo "$p, update on the $update: skipped (FT_BUDGET spent)" | tee -a "$summary"
				continue
			fi
			# One inference batch only: the row wanted is fine-tuning's.
			if timeout "$t" "$bin/clasifica" bench --runtime "$plib" --backbone "$backbone" --provider "$p" \
				--batches 1 --seconds 0.5 --head --fine-tune --fine-tune-update "$update" >"$out" 2>"$out.err"; then
				cat "$out"
				echo "$p, update on the $update: $(grep -m1 'runs on' "$out.err" | cut -d: -f2- | sed 's/^ *//'); $(grep -m1 'Fine-tuning' "$out" | sed 's/^Fine-tuning (mixed9, mixed10 and the head): //'); head $(grep -m1 'Head training' "$out" | sed 's/^Head training: //')" >>"$summary"
			else
				rc=$?
				echo "bench failed: $(tail -n 3 "$out.err")"
				echo "$p, update on the $update: bench failed: $(why $rc "$out.err")" >>"$summary"
			fi
		done
		echo
		echo "== profile of device-resident steps on $p"
		prof=$work/profile-$p
		if ! t=$(limit); then
			echo "$p profile: skipped (FT_BUDGET spent)" | tee -a "$summary"
		elif timeout "$t" "$bin/profile-step" --backbone "$backbone" --provider "$p" --update device --steps 3 >"$prof" 2>"$prof.err" </dev/null; then
			cat "$prof"
			{
				echo "$p profile:"
				grep -E '^(runs on|per step)' "$prof" | sed 's/^/  /'
				# The training session's time by provider, and its nodes elsewhere.
				grep -E 'runs counted|ExecutionProvider|every node ran|not on |on the device \(' "$prof" | sed 's/^ */  /'
			} >>"$summary"
		else
			rc=$?
			echo "profile-step failed: $(tail -n 3 "$prof.err")"
			echo "$p profile: failed: $(why $rc "$prof.err")" >>"$summary"
		fi
		echo
		echo "== the same steps with the update in the program and in the graph on $p"
		cmpout=$work/compare-$p
		if ! t=$(limit); then
			echo "$p compare: skipped (FT_BUDGET spent)" | tee -a "$summary"
		elif timeout "$t" "$bin/profile-step" --backbone "$backbone" --provider "$p" --compare --steps 3 >"$cmpout" 2>"$cmpout.err" </dev/null; then
			cat "$cmpout"
			sed "s/^/$p: /" "$cmpout" >>"$summary"
		else
			rc=$?
			echo "compare failed: $(tail -n 3 "$cmpout.err")"
			echo "$p compare: failed: $(why $rc "$cmpout.err")" >>"$summary"
		fi
	done
	echo
	echo "== summary"
	cat "$summary"
	exit 0
fi

provider=$mode
need clasifica .
need largephotos ./tools/largephotos

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
"$bin/largephotos" -src testdata/photos -dst "$work/large-src" -n "$large"
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
		"$bin/clasifica" bench --runtime "$lib" --backbone "$backbone" --provider "$provider" \
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
