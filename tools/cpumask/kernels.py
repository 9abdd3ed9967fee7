#!/usr/bin/env python3
"""Which vector extensions the hot code of a library uses, from perf samples.

ONNX Runtime's release library has no symbols, so instead of kernel names
this classifies each sample by the instructions around it (the 24 before
and after: the body of the loop the sample fell in): AMX, AVX-512 VNNI,
AVX-VNNI, AVX-512 (zmm), AVX2 8-bit products (vpmaddubsw/vpmaddwd on ymm),
other AVX/AVX2 (ymm), 128-bit SSE/AVX, scalar.

  perf record -F 499 -o run.data -- PROGRAM ...
  tools/cpumask/kernels.py run.data LIBRARY
"""
import bisect
import collections
import subprocess
import sys


def disassemble(lib):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", lib], capture_output=True, text=True, check=True).stdout
    addrs, insns = [], []
    for line in out.splitlines():
        if line.startswith(" ") and ":\t" in line:
            a, _, rest = line.partition(":\t")
            try:
                addrs.append(int(a.strip(), 16))
            except ValueError:
                continue
            insns.append(rest)
    return addrs, insns


def kind(window):
    text = " ".join(window)
    if "tdpb" in text:
        return "AMX (tdpbusd…)"
    if "vpdpbus" in text or "vpdpwss" in text:
        if "zmm" in text or "{" in text:
            return "AVX-512 VNNI (vpdpbusd zmm)"
        return "AVX-VNNI (vpdpbusd ymm)"
    if "zmm" in text:
        return "AVX-512 (zmm)"
    if "ymm" in text and ("vpmaddubsw" in text or "vpmaddwd" in text):
        return "AVX2 8-bit (vpmaddubsw/vpmaddwd ymm)"
    if "ymm" in text and "vfmadd" in text:
        return "AVX2 FMA float (ymm)"
    if "ymm" in text:
        return "other AVX/AVX2 (ymm)"
    if "xmm" in text:
        return "128-bit or scalar SSE/AVX (xmm)"
    return "scalar / other"


def main():
    data, lib = sys.argv[1], sys.argv[2]
    name = lib.rsplit("/", 1)[-1]
    addrs, insns = disassemble(lib)
    # perf report gives each sampled address relative to the library file,
    # which is what objdump shows.
    report = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", "sym", "--dsos", name,
                             "-F", "sample,sym"], capture_output=True, text=True, check=True).stdout
    counts, total = collections.Counter(), 0
    for line in report.splitlines():
        parts = line.split()
        if len(parts) < 3 or line.startswith("#") or not parts[2].startswith("0x"):
            continue
        n, ip = int(parts[0]), int(parts[2], 16)
        total += n
        i = bisect.bisect_right(addrs, ip) - 1
        counts[kind(insns[max(0, i - 24): i + 25])] += n
    inlib = total
    print(f"{total} samples at unnamed addresses in {name} (functions it exports, and @plt stubs, left out)")
    for k, n in counts.most_common():
        print(f"  {100 * n / inlib:5.1f}%  {k}")


if __name__ == "__main__":
    main()
