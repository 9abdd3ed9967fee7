#!/usr/bin/python3
"""Writes a Keras 2 weights file (.h5, the layout of model.save_weights)
from a TensorFlow.js layers-model folder.

    /usr/bin/python3 tools/keras-h5-from-tfjs.py TFJS_DIR OUT.h5

TFJS_DIR holds model.json and the binary weight shards it lists. Needs
h5py and numpy (Debian: python3-h5py), not TensorFlow.

The file is what Keras itself would write for the model: the root
attribute "layer_names" lists every layer of the model's configuration, in
order (weightless ones too, with an empty "weight_names", as Keras does);
each layer is a group whose "weight_names" lists its weights in the order
Keras creates them (Conv2D: kernel, bias; BatchNormalization: gamma, beta,
moving_mean, moving_variance; Dense: kernel, bias) as "<layer>/<weight>:0",
stored as float32 datasets at those paths.

Quantised weights (weightsManifest entries with "quantization": uint8,
uint16 or float16) are dequantised as TensorFlow.js does: for uint8 and
uint16, value = q * scale + min computed in float64 and rounded to float32;
float16 values are widened to float32.
"""
import json
import os
import sys

import h5py
import numpy as np

# Keras' limit on one attribute; larger lists are split as Keras splits them.
HDF5_OBJECT_HEADER_LIMIT = 64512

# The order in which Keras layers create their weights. Every standard
# layer's weights are a subsequence of this list.
WEIGHT_ORDER = [
    "kernel", "depthwise_kernel", "pointwise_kernel", "recurrent_kernel",
    "embeddings", "bias", "gamma", "beta", "moving_mean", "moving_variance",
    "alpha",
]

BYTES = {"float32": 4, "int32": 4, "bool": 1, "uint8": 1, "uint16": 2, "float16": 2}


def fail(msg):
    sys.exit("keras-h5-from-tfjs: " + msg)


def model_layers(model):
    topo = model.get("modelTopology")
    if topo is None:
        fail("model.json has no modelTopology")
    mc = topo.get("model_config", topo)
    cfg = mc.get("config")
    layers = cfg.get("layers") if isinstance(cfg, dict) else cfg
    if not isinstance(layers, list):
        fail("model.json: no list of layers in modelTopology")
    names = []
    for layer in layers:
        name = layer.get("name") or layer.get("config", {}).get("name")
        if not name:
            fail("model.json: a layer without a name")
        names.append(name)
    return topo, names


def read_weights(folder, model):
    """Returns {manifest weight name: float32 or int32 array}."""
    out = {}
    for group in model.get("weightsManifest", []):
        buf = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            name, shape, dtype = w["name"], tuple(w["shape"]), w["dtype"]
            n = int(np.prod(shape, dtype=np.int64))
            q = w.get("quantization")
            stored = q["dtype"] if q else dtype
            if stored not in BYTES:
                fail("weight %s: unsupported dtype %s" % (name, stored))
            size = n * BYTES[stored]
            if off + size > len(buf):
                fail("weight %s: shards end before its data" % name)
            raw = buf[off:off + size]
            off += size
            if q is None:
                v = np.frombuffer(raw, dtype={"float32": "<f4", "int32": "<i4", "bool": "u1"}[dtype])
                if dtype == "bool":
                    v = v.astype(np.float32)
            elif stored == "float16":
                v = np.frombuffer(raw, dtype="<f2").astype(np.float32)
            else:
                qv = np.frombuffer(raw, dtype={"uint8": "u1", "uint16": "<u2"}[stored])
                v = (qv.astype(np.float64) * q["scale"] + q["min"]).astype(np.float32)
            if name in out:
                fail("weight %s appears twice in the manifest" % name)
            out[name] = v.reshape(shape)
        if off != len(buf):
            print("keras-h5-from-tfjs: warning: %d bytes left over in %s" % (len(buf) - off, group["paths"]),
                  file=sys.stderr)
    return out


def set_list_attr(obj, name, data):
    """Keras' save_attributes_to_hdf5_group: a list attribute, split into
    name0, name1, ... when larger than HDF5_OBJECT_HEADER_LIMIT."""
    npy = np.asarray(data)
    chunks = 1
    parts = np.array_split(npy, chunks)
    while any(p.nbytes > HDF5_OBJECT_HEADER_LIMIT for p in parts):
        chunks += 1
        parts = np.array_split(npy, chunks)
    if chunks > 1:
        for i, p in enumerate(parts):
            obj.attrs["%s%d" % (name, i)] = p
    else:
        obj.attrs[name] = data


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: keras-h5-from-tfjs.py TFJS_DIR OUT.h5")
    folder, out = sys.argv[1], sys.argv[2]
    with open(os.path.join(folder, "model.json")) as f:
        model = json.load(f)
    topo, names = model_layers(model)
    weights = read_weights(folder, model)

    # Group the manifest's weights by layer: "<layer>/<weight>".
    by_layer = {}
    for wname in weights:
        layer, _, short = wname.rpartition("/")
        by_layer.setdefault(layer, []).append(short)
    unknown = set(by_layer) - set(names)
    if unknown:
        fail("weights of layers not in the model: %s" % sorted(unknown))

    tmp = out + ".tmp"
    nweights = 0
    with h5py.File(tmp, "w") as f:
        set_list_attr(f, "layer_names", [n.encode("utf8") for n in names])
        f.attrs["backend"] = np.bytes_(topo.get("backend", "tensorflow").encode("utf8"))
        f.attrs["keras_version"] = np.bytes_(str(topo.get("keras_version", "2.2.4")).encode("utf8"))
        for name in names:
            g = f.create_group(name)
            shorts = by_layer.get(name, [])
            odd = [s for s in shorts if s not in WEIGHT_ORDER]
            if odd:
                fail("layer %s: weights of unknown order: %s" % (name, odd))
            shorts.sort(key=WEIGHT_ORDER.index)
            wnames = ["%s/%s:0" % (name, s) for s in shorts]
            set_list_attr(g, "weight_names", [w.encode("utf8") for w in wnames])
            for s, wn in zip(shorts, wnames):
                v = weights["%s/%s" % (name, s)]
                g.create_dataset(wn, data=v)
                nweights += v.size
    os.replace(tmp, out)
    print("%s: %d layers, %d with weights, %d weights" %
          (out, len(names), len(by_layer), nweights))


if __name__ == "__main__":
    main()
