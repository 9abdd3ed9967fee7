#!/usr/bin/python3
"""Writes the Keras weight files that ml/keras's tests read.

    /usr/bin/python3 ml/keras/testdata/make_fixtures.py [OUT_DIR]

Needs Debian's python3-h5py and numpy (no Keras): the files are written the
way Keras 2's model.save_weights and model.save write them
(keras/saving/hdf5_format.py), in the old and the new HDF5 encodings.
Values follow val() below, which the Go tests recompute; every value is
exactly representable as float32.
"""
import json
import os
import sys

import h5py
import numpy as np


def val(n, k=0):
    """n values, multiples of 1/8 in [-6.25, 6.25], varied by k."""
    i = np.arange(n, dtype=np.int64)
    return (((i * 37 + k * 11) % 101) - 50) / 8.0


# The model: (layer name, class, [(weight name, shape)]).
LAYERS = [
    ("input_1", "InputLayer", []),
    ("conv2d_1", "Conv2D", [("conv2d_1/kernel:0", (3, 3, 3, 4))]),
    ("batch_normalization_1", "BatchNormalization", [
        ("batch_normalization_1/beta:0", (4,)),
        ("batch_normalization_1/moving_mean:0", (4,)),
        ("batch_normalization_1/moving_variance:0", (4,)),
    ]),
    ("activation_1", "Activation", []),
    ("dense_1", "Dense", [("dense_1/kernel:0", (4, 2)), ("dense_1/bias:0", (2,))]),
]

# More weightless layers, so that the new-format root group goes dense.
EXTRA = [("activation_%d" % i, "Activation", []) for i in range(2, 12)]


def weights(layers):
    """Yields (layer, weight name, values); values are numbered across the
    whole model so that each array differs."""
    k = 0
    for name, _cls, ws in layers:
        for wname, shape in ws:
            yield name, wname, val(int(np.prod(shape)), k).reshape(shape)
            k += 1


def save_weights(g, layers, latest, fixed=False):
    """Keras 2's save_weights_to_hdf5_group, with the variations real files
    have."""
    names = [n.encode("utf8") for n, _, _ in layers]
    if latest:
        # Keras splits attributes larger than 64 KiB into name0, name1, ...
        g.attrs["layer_names0"] = np.array(names[:7])
        g.attrs["layer_names1"] = np.array(names[7:])
        g.attrs["backend"] = "tensorflow"  # h5py 3: variable-length string
        g.attrs["keras_version"] = "2.4.0"
    else:
        # h5py 2 (Keras 2.2 days) stored lists of bytes as fixed-length
        # strings; h5py 3 stores them as variable-length strings.
        g.attrs["layer_names"] = np.array(names) if fixed else names
        g.attrs["backend"] = np.bytes_(b"tensorflow")
        g.attrs["keras_version"] = np.bytes_(b"2.2.4")
    by_layer = {}
    for lname, wname, v in weights(layers):
        by_layer.setdefault(lname, []).append((wname, v))
    for lname, _cls, ws in layers:
        lg = g.create_group(lname)
        wl = by_layer.get(lname, [])
        if latest and lname == "dense_1":
            lg.attrs["weight_names"] = [w for w, _ in wl]  # variable-length
        else:
            # An empty list is what Keras stores for layers without weights:
            # h5py makes it a float64 attribute with no elements.
            wn = [w.encode("utf8") for w, _ in wl]
            lg.attrs["weight_names"] = np.array(wn) if fixed and wn else wn
        for wname, v in wl:
            if not latest:
                lg.create_dataset(wname, data=v.astype("<f4"))
            elif lname == "conv2d_1":
                lg.create_dataset(wname, data=v.astype("<f4"), chunks=(3, 3, 1, 2),
                                  compression="gzip", shuffle=True)
            elif lname == "batch_normalization_1":
                lg.create_dataset(wname, data=v.astype(">f8"))  # float64, big-endian
            elif wname.endswith("bias:0"):
                dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
                dcpl.set_layout(h5py.h5d.COMPACT)
                sp = h5py.h5s.create_simple(v.shape)
                parent = lg.require_group(wname.rsplit("/", 1)[0])
                h5py.h5d.create(parent.id, wname.rsplit("/", 1)[1].encode(),
                                h5py.h5t.IEEE_F32LE, sp, dcpl=dcpl)
                lg[wname][...] = v
            else:
                lg.create_dataset(wname, data=v.astype("<f4"))


def model_config(layers):
    return json.dumps({
        "class_name": "Model",
        "config": {
            "name": "model_1",
            "layers": [{"name": n, "class_name": c, "config": {"name": n}} for n, c, _ in layers],
        },
    })


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    with h5py.File(os.path.join(out, "weights_earliest.h5"), "w", libver="earliest") as f:
        save_weights(f, LAYERS, False, fixed=True)
    with h5py.File(os.path.join(out, "weights_latest.h5"), "w", libver="latest") as f:
        save_weights(f, LAYERS + EXTRA, True)
    # model.save(): the weights sit under model_weights; the model's
    # configuration, with each layer's class, is a JSON attribute.
    with h5py.File(os.path.join(out, "model_saved.h5"), "w") as f:
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = model_config(LAYERS).encode("utf8")
        f.attrs["training_config"] = b"{}"
        save_weights(f.create_group("model_weights"), LAYERS, False)
        f.create_group("optimizer_weights")
    # A weight listed in weight_names but missing.
    with h5py.File(os.path.join(out, "missing_weight.h5"), "w") as f:
        f.attrs["layer_names"] = [b"dense_1"]
        g = f.create_group("dense_1")
        g.attrs["weight_names"] = [b"dense_1/kernel:0", b"dense_1/bias:0"]
        g.create_dataset("dense_1/kernel:0", data=val(8).reshape(4, 2).astype("<f4"))
    # Keras 3's model.weights.h5 layout, which is rejected.
    with h5py.File(os.path.join(out, "keras3.weights.h5"), "w") as f:
        v = f.create_group("layers").create_group("dense").create_group("vars")
        v.create_dataset("0", data=val(8).reshape(4, 2).astype("<f4"))
        v.create_dataset("1", data=val(2, 1).astype("<f4"))
        f.create_group("optimizer").create_group("vars")


if __name__ == "__main__":
    main()
