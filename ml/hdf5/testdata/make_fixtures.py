#!/usr/bin/python3
"""Writes the HDF5 fixtures that ml/hdf5's tests read.

    /usr/bin/python3 ml/hdf5/testdata/make_fixtures.py [OUT_DIR]

Needs Debian's python3-h5py (h5py 3.7 on HDF5 1.10.8 wrote the committed
files) and numpy. The same content is written with different library
versions so that the tests cover the old (superblock 0, version 1 object
headers, symbol-table groups, layout message 3) and the new (superblock 2
and 3, version 2 object headers, link messages, fractal heaps, layout
message 4 chunk indexes) encodings. Values follow val() below, which the Go
tests recompute; every value is exactly representable as float32.
"""
import os
import struct
import sys

import h5py
import numpy as np


def val(n, k=0):
    """n values, multiples of 1/8 in [-6.25, 6.25], varied by k."""
    i = np.arange(n, dtype=np.int64)
    return (((i * 37 + k * 11) % 101) - 50) / 8.0


def fill(f, latest):
    f.attrs["title"] = "h\u00e9llo w\u00f6rld"  # scalar variable-length UTF-8
    f.attrs["names"] = np.array([b"conv2d_1", b"batch_normalization_1", b"x"])  # |S21
    f.attrs["vnames"] = ["a", "bb", "ccc", ""]  # variable-length UTF-8 array
    f.attrs["backend"] = b"tensorflow"  # scalar variable-length ASCII
    f.attrs["i32"] = np.array([1, -2, 3], dtype=np.int32)
    f.attrs["f64"] = np.float64(0.25)
    f.attrs["u8"] = np.array([0, 7, 255], dtype=np.uint8)

    d = f.create_group("data")
    d.create_dataset("f32", data=val(12).reshape(3, 4).astype("<f4"))
    d.create_dataset("f64be", data=val(5, 1).astype(">f8"))
    d.create_dataset("f32be", data=val(6, 2).reshape(2, 3).astype(">f4"))
    d.create_dataset("f16", data=val(4, 3).astype("<f2"))
    d.create_dataset("i16be", data=np.array([1, -2, 300, -32768], dtype=">i2"))
    d.create_dataset("u32", data=np.array([0, 1, 4000000000], dtype="<u4"))
    d.create_dataset("i64", data=np.array([-5, 1 << 40], dtype="<i8"))
    d.create_dataset("scalar", data=np.float32(1.5))
    d.create_dataset("empty", shape=(0,), dtype="<f4")
    d["f32"].attrs["unit"] = np.bytes_(b"m")  # |S1 scalar

    c = f.create_group("chunk")
    c.create_dataset("gzip", data=val(35, 4).reshape(7, 5).astype("<f4"),
                     chunks=(3, 2), compression="gzip", shuffle=True)
    c.create_dataset("fletcher", data=val(10, 5).astype("<f4"), chunks=(4,),
                     compression="gzip", fletcher32=True)
    c.create_dataset("plainchunks", data=val(10, 6).astype("<f8"), chunks=(3,))
    s = c.create_dataset("sparse", shape=(8, 8), dtype="<f4", chunks=(4, 4), fillvalue=-1)
    s[0:4, 0:4] = val(16, 7).reshape(4, 4)
    c.create_dataset("single", data=val(6, 8).astype(">f8"), chunks=(6,),
                     compression="gzip", compression_opts=9)
    c.create_dataset("ea", data=val(15, 9).reshape(5, 3).astype("<f4"),
                     chunks=(2, 3), maxshape=(None, 3))
    c.create_dataset("bt2", data=val(15, 11).reshape(5, 3).astype("<f4"),
                     chunks=(2, 2), maxshape=(None, None))
    c.create_dataset("bt2gz", data=val(15, 12).reshape(5, 3).astype("<f4"),
                     chunks=(2, 2), maxshape=(None, None), compression="gzip")
    if latest:
        # Extensible array with data blocks, super blocks and pages; fixed
        # array with pages. (Old format: both are v1 B-trees, large ones.)
        c.create_dataset("eamany", data=val(600, 10).astype("<f4"),
                         chunks=(2,), maxshape=(None,), compression="gzip")
        c.create_dataset("paged", data=val(1100, 13).astype("<f4"), chunks=(1,))
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((2, 2))
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    sp = h5py.h5s.create_simple((3, 3))
    h5py.h5d.create(c.id, b"implicit", h5py.h5t.IEEE_F32LE, sp, dcpl=dcpl)
    c["implicit"][...] = val(9, 14).reshape(3, 3)

    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    sp = h5py.h5s.create_simple((3,))
    h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE, sp, dcpl=dcpl)
    f["compact"][...] = val(3, 15)

    # Enough links for several symbol-table nodes and a two-level v1 B-tree
    # (old format), or a fractal heap with indirect blocks and a two-level
    # v2 B-tree (new format).
    m = f.create_group("many")
    for i in range(300):
        m["m%03d" % i] = d["f32"]
    m.create_group("sub").create_group("deeper")

    # More attributes than fit compactly (new format: dense storage), one
    # larger than the 4 KiB a fractal heap keeps in its blocks ("huge").
    a = f.create_group("attrs")
    for i in range(12):
        a.attrs["a%02d" % i] = np.float32(i)
    a.attrs["big"] = val(1500, 16).astype("<f4")
    a.attrs["bigstr"] = np.array([("s%04d" % i).encode() for i in range(1000)])

    b = f.create_group("bad")
    b.create_dataset("vlen", shape=(1,), dtype=h5py.vlen_dtype(np.int32))
    b.create_dataset("compound", shape=(2,), dtype=np.dtype([("a", "<i4"), ("b", "<f4")]))
    b["soft"] = h5py.SoftLink("/data/f32")


def write(path, libver, **kw):
    with h5py.File(path, "w", libver=libver, **kw) as f:
        fill(f, libver != "earliest")


def small(path, libver, fcpl=None, userblock=0):
    """A small file: one group, one dataset, one attribute."""
    if fcpl is not None:
        fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
        low = {"earliest": h5py.h5f.LIBVER_EARLIEST, "latest": h5py.h5f.LIBVER_LATEST}[libver]
        fapl.set_libver_bounds(low, h5py.h5f.LIBVER_LATEST)
        fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
        f = h5py.File(fid)
    else:
        f = h5py.File(path, "w", libver=libver, userblock_size=userblock)
    with f:
        f.attrs["layer_names"] = np.array([b"dense_1"])
        g = f.create_group("dense_1").create_group("dense_1")
        g.create_dataset("kernel:0", data=val(6, 20).reshape(2, 3).astype("<f4"))


def track_order(path):
    """Creation order tracked and indexed (h5py's track_order): object
    header messages carry creation order fields, and dense links and
    attributes get a second index."""
    with h5py.File(path, "w", libver="latest", track_order=True) as f:
        g = f.create_group("g", track_order=True)
        for i in range(10):
            g.create_dataset("d%d" % (9 - i), data=val(3, i).astype("<f4"))
            g.attrs["a%d" % (9 - i)] = np.int32(i)
        f.attrs["names"] = ["x", "y"]


def superblock1(src, dst):
    """Rewrites a superblock 0 file as superblock 1 (which h5py cannot make:
    it needs a non-default indexed-storage B-tree K). Version 1 is four bytes
    longer, so the root group's object header, which follows the superblock,
    is moved to the end of the file."""
    b = bytearray(open(src, "rb").read())
    assert b[8] == 0 and b[13] == 8 and b[14] == 8
    base, fs, eof, drv = struct.unpack_from("<4Q", b, 24)
    # root symbol table entry at 56: name offset, header address, cache type, reserved, scratch
    name_off, hdr, ctype, _res, btree, heap = struct.unpack_from("<QQIIQQ", b, 56)
    assert hdr == 96, hdr
    # v1 object header: 16-byte prefix, then messages; its size is at 8.
    hsize = struct.unpack_from("<I", b, 96 + 8)[0]
    header = bytes(b[96:96 + 16 + hsize])
    new = len(b)
    b += header
    sb = bytearray(b[:24])
    sb[8] = 1
    sb += struct.pack("<HH", 32, 0)  # indexed storage internal node K, reserved
    sb += struct.pack("<4Q", base, fs, len(b), drv)
    sb += struct.pack("<QQIIQQ", name_off, new, ctype, 0, btree, heap)
    b[:len(sb)] = sb
    open(dst, "wb").write(bytes(b))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    write(os.path.join(out, "earliest.h5"), "earliest")
    write(os.path.join(out, "latest.h5"), "latest")
    small(os.path.join(out, "small_v108.h5"), "v108")
    small(os.path.join(out, "small_userblock.h5"), "earliest", userblock=1024)
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_sizes(4, 4)
    small(os.path.join(out, "small_off4.h5"), "earliest", fcpl=fcpl)
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_sizes(4, 4)
    small(os.path.join(out, "small_off4_latest.h5"), "latest", fcpl=fcpl)
    track_order(os.path.join(out, "small_track_order.h5"))
    small(os.path.join(out, "small_sb0.tmp"), "earliest")
    superblock1(os.path.join(out, "small_sb0.tmp"), os.path.join(out, "small_sb1.h5"))
    os.remove(os.path.join(out, "small_sb0.tmp"))


if __name__ == "__main__":
    main()
