#!/usr/bin/env python3
"""Blanks the GPU code a CUDA library carries for GPUs other than one.

  tools/device/prune-fatbin.py LIB SM OUT     e.g. ... libonnxruntime_providers_cuda.so 90 cuda90.so
  tools/device/prune-fatbin.py LIB            lists the code per GPU architecture

ONNX Runtime's CUDA provider (230 MB) holds its kernels compiled for six
GPU architectures (sm_75 ... sm_120) in the ELF section .nv_fatbin; a GPU
loads only its own. Zeroing the others' bytes, in place (no offset or size
changes, so the ELF stays valid), leaves a file that xz compresses to about
38 MB instead of 150 MB, small enough to carry to a lent GPU machine in two
parts (see tools/device/README.md). The result runs on that architecture
only: a measuring aid, never something to ship.

Fatbin layout (as CUDA writes it, documented by its users, not by NVIDIA):
a header (magic 0xBA55ED50, version, header size, size of what follows),
then entries, each a header (kind, header size, payload size, ..., the
architecture at offset 28) and its payload.
"""
import struct
import subprocess
import sys
from collections import Counter

MAGIC = 0xBA55ED50


def section(path):
    out = subprocess.check_output(["readelf", "-S", "-W", path], text=True)
    for line in out.splitlines():
        if ".nv_fatbin" in line:
            f = line.split("]", 1)[1].split()
            return int(f[3], 16), int(f[4], 16)
    sys.exit("%s: no .nv_fatbin section" % path)


def main():
    if len(sys.argv) not in (2, 4):
        sys.exit(__doc__)
    path = sys.argv[1]
    keep = int(sys.argv[2]) if len(sys.argv) == 4 else None
    data = bytearray(open(path, "rb").read())
    off, size = section(path)
    p, end = off, off + size
    sizes, counts, blanked = Counter(), Counter(), 0
    while p < end:
        magic, _, hsize, fsize = struct.unpack_from("<IHHQ", data, p)
        if magic != MAGIC:
            p += 8  # fatbins are 8-byte aligned
            continue
        q, qend = p + hsize, p + hsize + fsize
        while q < qend:
            kind, _, ehsize, esize = struct.unpack_from("<HHIQ", data, q)
            arch = struct.unpack_from("<I", data, q + 28)[0]
            key = ("ptx" if kind == 1 else "sm") + "_%d" % arch
            sizes[key] += esize
            counts[key] += 1
            if keep is not None and not (kind == 2 and arch == keep):
                data[q + ehsize:q + ehsize + esize] = bytes(esize)
                blanked += esize
            q += ehsize + esize
        p = qend
    for k in sorted(sizes):
        print("%-8s %4d entries %12d bytes" % (k, counts[k], sizes[k]))
    if keep is not None:
        if not sizes.get("sm_%d" % keep):
            sys.exit("no code for sm_%d: nothing would run" % keep)
        open(sys.argv[3], "wb").write(data)
        print("blanked %d bytes; kept sm_%d; wrote %s" % (blanked, keep, sys.argv[3]))


if __name__ == "__main__":
    main()
