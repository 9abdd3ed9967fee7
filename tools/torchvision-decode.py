#!/usr/bin/python3
"""Decoding speed of torchvision's decode_jpeg (libjpeg-turbo, full size) on
a folder of JPEG photos, in photos per second of one core's CPU time: the
reference for the decode row of `clasifica bench --data` (issue 22).

    /usr/bin/python3 tools/torchvision-decode.py testdata/photos/pets [seconds]

Files are read into memory first, as torchvision's benchmarks do; only the
decoding is timed. Needs Debian's python3-torchvision.
"""
import os
import sys
import time

import torch
import torchvision
from torchvision.io import decode_jpeg, read_file


def main():
    root = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(1)
    paths = sorted(
        os.path.join(d, f)
        for d, _, fs in os.walk(root)
        for f in fs
        if f.lower().endswith((".jpg", ".jpeg"))
    )
    data = [read_file(p) for p in paths]
    n, start, cpu0 = 0, time.time(), time.process_time()
    while n == 0 or time.time() - start < seconds:
        for d in data:
            decode_jpeg(d)
            n += 1
    used = time.process_time() - cpu0
    print(f"torchvision {torchvision.__version__} decode_jpeg: {len(paths)} photos, "
          f"{n / used:.1f} photos/s per core ({1000 * used / n:.2f} ms a photo)")


if __name__ == "__main__":
    main()
