#!/usr/bin/env python3
"""Compares two `clasifica classify --format json` outputs: the same photos
(by their last two path components, so that Linux and Windows paths of
one photo match) with the same labels and probabilities within TOL."""
import json
import sys

TOL = 1e-4


def load(path):
    rows = json.load(open(path, encoding="utf-8"))
    out = {}
    for r in rows:
        key = "/".join(r["path"].replace("\\", "/").split("/")[-2:])
        if r.get("error"):
            sys.exit(f"{path}: {key}: {r['error']}")
        out[key] = r
    return out


want, got = load(sys.argv[1]), load(sys.argv[2])
if not want:
    sys.exit(f"{sys.argv[1]}: no photos")
if sorted(want) != sorted(got):
    sys.exit(f"different photos: {sorted(set(want) ^ set(got))}")
worst = 0.0
for k, w in want.items():
    g = got[k]
    if w["label"] != g["label"]:
        sys.exit(f"{k}: label {g['label']!r}, want {w['label']!r}")
    wt = {s["label"]: s["probability"] for s in w.get("top", [])} or {w["label"]: w["probability"]}
    gt = {s["label"]: s["probability"] for s in g.get("top", [])} or {g["label"]: g["probability"]}
    for label, p in wt.items():
        d = abs(p - gt.get(label, -1))
        worst = max(worst, d)
        if d > TOL:
            sys.exit(f"{k}: p({label}) = {gt.get(label)}, want {p} (within {TOL})")
print(f"{len(want)} photos, same labels, largest probability difference {worst:.2g}")
