#!/bin/bash
# Issue 22's GPU measurements in one run (about 4 minutes), on what stages
# A–C put in /tmp/c: the fine-tuning step on WebGPU and CUDA (placement;
# fixed vs dynamic graph vs captured steps; captured vs Go update), the
# labels of a model on CUDA and WebGPU against the CPU's, a folder end to
# end on CUDA, and bench-peers on CUDA beside PyTorch.
T=/tmp/c
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export CLASIFICA_HOME=$T/home ONNXRUNTIME_LIB=$T/libonnxruntime.so.1 CLASIFICA_TEST_BACKBONE=$T/nsfwjs-inceptionv3 PYTHONUNBUFFERED=1
# CUDA 13, cuBLAS and cuDNN from the machine's PyTorch (Clasifica finds
# them itself too; set here so that profile-step, which does not, finds them).
CU=$(find /opt /usr -name 'libcublas.so.13' -o -name 'libcudnn.so.9' -o -name 'libcudart.so.13' -o -name 'libcurand.so.10' 2>/dev/null | xargs -n1 dirname | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH=$T/x/usr/lib/x86_64-linux-gnu:$T/x/lib/x86_64-linux-gnu:$CU
grep -m1 'model name' /proc/cpuinfo; nproc; nvidia-smi -L; date
P=$T/bin/profile-step
for p in webgpu cuda; do
	echo "== $p placement (fixed graph)"
	timeout 40 $P --provider $p --update device --steps 3 2>&1 | grep -E "^(runs on|graph)|runs counted|nodes per run|every node|not on|nodes:"
	for a in "--graph fixed" "--graph dynamic" "--capture"; do
		echo "== $p $a"
		timeout 40 $P --provider $p --update device $a --warmup 6 --steps 30 --profile=false 2>&1 | grep -E "replayed|warm-up|rror"
	done
	echo "== $p compare, captured"; timeout 40 $P --provider $p --compare --capture --steps 6 2>&1 | tail -4
done
C="$T/bin/clasifica classify --model $T/model.clasifica --format csv testdata/photos"
for p in cpu cuda webgpu; do
	timeout 40 $C --provider $p >$T/$p.csv 2>$T/$p.err || tail -3 $T/$p.err
	grep -m1 "runs on" $T/$p.err
done
python3 tools/device/agree.py $T/cpu.csv $T/cuda.csv "CUDA vs CPU"
python3 tools/device/agree.py $T/cpu.csv $T/webgpu.csv "WebGPU vs CPU"
for i in 0 1 2 3 4 5 6 7; do mkdir -p $T/small/$i; cp -rl testdata/photos/. $T/small/$i/; done
B="$T/bin/clasifica bench --runtime $T/libonnxruntime.so.1 --backbone $T/nsfwjs-inceptionv3"
for p in cuda webgpu; do
	echo "== $p folder"; timeout 40 $B --provider $p --data $T/small --seconds 2 --batches 32 --head=false 2>&1 | grep -vE '^\[|^Peak|^Precision'
done
echo "== bench-peers cuda"
timeout 100 python3 tools/bench-peers/bench-peers.py --device cuda --clasifica $T/bin/clasifica \
	--runtime $T/libonnxruntime.so.1 --backbone $T/nsfwjs-inceptionv3 --seconds 2 2>&1 | tail -9
