#!/bin/bash
# One stage of a measuring session on a lent GPU machine (see pack.sh):
# A and B unpack what they carry into /tmp/c, C runs measure.sh.
R=$PWD; T=/tmp/c
exec > >(tee "$OUT/stage$1.txt") 2>&1
case $1 in
A)
	rm -rf $T; mkdir -p $T/x $T/home $T/bin
	for f in .devA/*.deb; do dpkg -x "$f" $T/x; done
	xz -dc .devA/ort.xz >$T/libonnxruntime.so.1
	cp .devA/libonnxruntime_providers_shared.so .devA/cuda.part.aa $T/ ;;
B)
	[ -f $T/cuda.part.aa ] || { echo "the machine went cold: run stage A again"; exit 3; }
	tar -xJf .devB/bb.tar.xz -C $T
	cat $T/cuda.part.aa .devB/cuda.part.ab | xz -dc -T4 >$T/libonnxruntime_providers_cuda.so && rm $T/cuda.part.aa
	(cd $T && sha256sum -c "$R/.devB/cuda90.sha256") ;;
C)
	[ -f $T/libonnxruntime_providers_cuda.so ] || { echo "the machine went cold: run stages A and B again"; exit 3; }
	for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
	xz -dc .devC/clasifica.xz >$T/bin/clasifica; xz -dc .devC/profile-step.xz >$T/bin/profile-step
	xz -dc .devC/model.clasifica.xz >$T/model.clasifica; chmod +x $T/bin/*
	bash tools/device/measure.sh ;;
esac
ls -la $T; date
