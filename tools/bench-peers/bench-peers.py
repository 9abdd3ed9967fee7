#!/usr/bin/env python3
"""Clasifica beside PyTorch: the same work, measured in one run.

Runs `clasifica bench` and then the same three pieces of work in PyTorch,
and prints both figures and their ratio side by side:

  fine-tuning epoch  mixed9 + mixed10 + GlobalAveragePool + Dense(1024, relu)
                     + Dropout(0.5) + Dense(10) trained from cached mixed8
                     activations (8x8x1280), batch 32, batch norm frozen
                     (running statistics fixed), SGD(1e-4, momentum 0.9);
                     seconds per 1,000 photos
  head epoch         Dense(1024, relu) + Dropout(0.5) + Dense(10) on 1,000
                     feature vectors of 2,048, batch 32, Adam(1e-3); seconds
  inference          the whole InceptionV3 up to its 2,048 pooled features,
                     images per second at batch 1, 8 and 32

torchvision's Inception3 is TensorFlow's InceptionV3 (Mixed_7b and Mixed_7c
are Keras's mixed9 and mixed10), so both sides run the same layers on the
same shapes. Weights do not change the speed: PyTorch's are random.

  tools/bench-peers/bench-peers.py [--device cpu|cuda] [--threads N]
                                   [--seconds S] [--clasifica [NAME=]BIN]...
                                   [--rounds N] [--fine-tune-only]
                                   [--provider P] [--runtime LIB]
                                   [--backbone DIR] [--skip-clasifica]

--device picks PyTorch's device and, unless --provider says otherwise,
Clasifica's execution provider (cpu -> cpu, cuda -> cuda). --threads sets
both sides' CPU threads (0: one per core). Clasifica's binary is built
from this checkout unless --clasifica names one. PyTorch comes from
Debian's python3-torch and python3-torchvision (or any installed torch),
with an optimised BLAS (Debian: libopenblas0-pthread; with the reference
libblas3 PyTorch is several times slower, and the script says so);
when the running Python lacks it and /usr/bin/python3 has it, the script
re-runs itself there. Ratios are "how many times faster Clasifica is":
above 1 Clasifica is ahead. Measure on a quiet machine, and compare
ratios taken in one run, not figures from different hosts.

To compare builds (before and after a change), give --clasifica more than
once (NAME=BIN names a column) and --rounds N: each round runs every
binary and then PyTorch's fine-tuning, interleaved, so that a change in the
machine's load touches all of them alike. --fine-tune-only measures only
the fine-tuning row (Clasifica's inference then runs one short batch, which
the head's measurement needs). Beside the wall clock each side's CPU time
(every thread, user and system) per 1,000 photos is printed: on a machine
shared with other work it moves less.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BATCHES = (1, 8, 32)
CLASSES = 10  # as `clasifica bench` measures
FEATURES = 2048


def import_torch():
    """Returns (torch, torchvision), re-running the script under Debian's
    Python when the current interpreter lacks them."""
    try:
        import torch
        import torchvision
        return torch, torchvision
    except ImportError as e:
        system = "/usr/bin/python3"
        if os.path.exists(system) and os.path.realpath(sys.executable) != os.path.realpath(system) \
                and not os.environ.get("BENCH_PEERS_REEXEC"):
            env = dict(os.environ, BENCH_PEERS_REEXEC="1")
            os.execve(system, [system] + sys.argv, env)
        sys.exit("bench-peers: PyTorch is not installed (%s): apt-get install python3-torch python3-torchvision" % e)


def blas_warning():
    """Says when PyTorch runs on Debian's reference BLAS (libblas3), which
    makes its convolutions about ten times slower than with OpenBLAS: a
    comparison against that would flatter Clasifica."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line and line.split()[-1].startswith("/")}
    except OSError:
        return ""
    if any(l.endswith("/blas/libblas.so.3") or "/blas/libblas.so" in l for l in libs) and \
            not any("openblas" in l or "mkl" in l or "blis" in l for l in libs):
        return "warning: PyTorch uses the reference BLAS (%s); install libopenblas0-pthread for a fair comparison" % ", ".join(sorted(libs))
    return ""


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return [x for x in ("avx2", "avx512f", "avx_vnni", "avx512_vnni", "amx_int8") if x in have]
    except OSError:
        pass
    return []


def timed(step, sync, seconds, min_runs, cpu=None):
    """Runs step once to warm up, then for at least seconds and min_runs
    runs; returns the mean seconds per run. With cpu (a list), appends the
    process's mean CPU seconds per run to it."""
    step()
    sync()
    n, start, cpu0 = 0, time.perf_counter(), time.process_time()
    while n < min_runs or time.perf_counter() - start < seconds:
        step()
        n += 1
    sync()
    if cpu is not None:
        cpu.append((time.process_time() - cpu0) / n)
    return (time.perf_counter() - start) / n


def clasifica_binaries(args):
    """Returns [(name, path)] of the binaries to measure, building
    bin/clasifica from this checkout when none is named."""
    if not args.clasifica:
        binary = os.path.join(ROOT, "bin", "clasifica")
        print("building %s…" % binary, file=sys.stderr)
        subprocess.run(["go", "build", "-o", binary, "."], cwd=ROOT, check=True)
        return [("Clasifica", binary)]
    out = []
    for i, c in enumerate(args.clasifica):
        name, sep, path = c.partition("=")
        if not sep:
            name, path = ("Clasifica" if len(args.clasifica) == 1 else os.path.basename(c) or "Clasifica %d" % (i + 1)), c
        out.append((name, path))
    return out


def run_clasifica(args, binary):
    """Runs `clasifica bench --format json` and returns its result."""
    provider = args.provider or args.device
    batches, seconds = ",".join(map(str, BATCHES)), args.seconds
    if args.fine_tune_only:
        batches, seconds = "1", 0.2  # the head's measurement needs features
    cmd = [binary, "bench", "--format", "json", "--provider", provider,
           "--threads", str(args.threads), "--seconds", str(seconds),
           "--batches", batches]
    backbone = args.backbone or os.environ.get("CLASIFICA_TEST_BACKBONE") \
        or os.path.join(ROOT, ".deps", "backbones", "nsfwjs-inceptionv3")
    if backbone and os.path.exists(backbone):
        cmd += ["--backbone", backbone]
    if args.runtime:
        cmd += ["--runtime", args.runtime]
    print("running:", " ".join(cmd), file=sys.stderr)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout
    return json.loads(out)


def run_pytorch(args, torch, torchvision):
    """Measures the three pieces of work in PyTorch; returns a dict shaped
    like the figures taken from Clasifica's JSON."""
    nn = torch.nn
    dev = torch.device(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    else:
        torch.set_num_threads(os.cpu_count() or 1)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    torch.manual_seed(1)
    net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False,
                                          transform_input=False)
    net.fc = nn.Identity()  # the 2,048 pooled features, as Clasifica's backbone gives them
    res = {"threads": torch.get_num_threads(), "inference": {}, "blas_warning": blas_warning()}

    res["net"], res["sync"] = net, sync
    if args.fine_tune_only:
        return res

    # Inference on ready tensors.
    net.eval().to(dev)
    for b in BATCHES:
        x = torch.rand(b, 3, 299, 299, device=dev)

        def infer():
            with torch.inference_mode():
                net(x)
        sec = timed(infer, sync, args.seconds, 2)
        res["inference"][str(b)] = b / sec
        print("pytorch inference batch %d: %.1f images/s" % (b, b / sec), file=sys.stderr)

    pytorch_fine_tune(args, torch, res)

    # The head alone on feature vectors.
    head = nn.Sequential(nn.Linear(FEATURES, 1024), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(1024, CLASSES)).to(dev).train()
    hopt = torch.optim.Adam(head.parameters(), lr=1e-3, eps=1e-7)
    feats = torch.rand(1000, FEATURES, device=dev)
    y = torch.arange(1000, device=dev) % CLASSES
    loss_fn = nn.CrossEntropyLoss()

    def head_epoch():
        perm = torch.randperm(1000, device=dev)
        for i in range(0, 1000, 32):
            idx = perm[i:i + 32]
            hopt.zero_grad(set_to_none=True)
            loss_fn(head(feats[idx]), y[idx]).backward()
            hopt.step()
    res["head"] = timed(head_epoch, sync, min(args.seconds, 3), 3)
    print("pytorch head epoch: %.3f s per 1,000" % res["head"], file=sys.stderr)
    return res


def pytorch_fine_tune(args, torch, res):
    """Measures PyTorch's fine-tuning steps of mixed9, mixed10 and the
    head from mixed8's activations on res's network; sets res["fine_tune"]
    and res["fine_tune_cpu"] (seconds per 1,000 photos)."""
    nn = torch.nn
    dev = torch.device(args.device)
    net, sync = res["net"], res["sync"]
    torch.manual_seed(1)
    tune = nn.Sequential(net.Mixed_7b, net.Mixed_7c, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(FEATURES, 1024), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(1024, CLASSES)).to(dev)
    tune.train()
    for m in tune.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()  # frozen statistics, like Keras's BatchNormalization in inference mode
    opt = torch.optim.SGD(tune.parameters(), lr=1e-4, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    acts = torch.rand(32, 1280, 8, 8, device=dev)
    labels = torch.arange(32, device=dev) % CLASSES

    def tune_step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(tune(acts), labels)
        loss.backward()
        opt.step()
    cpu = []
    sec = timed(tune_step, sync, args.seconds, 3, cpu)
    res["fine_tune"] = sec / 32 * 1000
    res["fine_tune_cpu"] = cpu[0] / 32 * 1000
    print("pytorch fine-tuning: %.2f s per 1,000 photos (CPU %.2f s)" % (res["fine_tune"], res["fine_tune_cpu"]), file=sys.stderr)


def row(name, ours, theirs, unit, higher_is_better):
    if ours is None or theirs is None or ours <= 0 or theirs <= 0:
        ratio = "-"
    else:
        ratio = "%.2f×" % (ours / theirs if higher_is_better else theirs / ours)
    fmt = lambda v: "-" if v is None else ("%.3f" % v if v < 1 else "%.1f" % v)
    return "| %s | %s | %s | %s | %s |" % (name, fmt(ours), fmt(theirs), unit, ratio)


def median(v):
    v = sorted(x for x in v if x)
    if not v:
        return None
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def fine_tune_rounds(args, torch, bins, theirs, first):
    """Runs --rounds rounds, each every binary then PyTorch's fine-tuning,
    and prints one row per round and the medians: wall and CPU seconds
    per 1,000 photos, and each binary's ratio to PyTorch in that round.
    first is the first round's Clasifica results when already measured."""
    rows = []
    for r in range(args.rounds):
        load = os.getloadavg()[0]
        ours = []
        for k, (name, path) in enumerate(bins):
            res = first[k] if r == 0 and first is not None else run_clasifica(args, path)
            ours.append((res.get("fine_tune_epoch_seconds_per_1000_images"), res.get("fine_tune_cpu_seconds_per_1000_images")))
        if r > 0 or "fine_tune" not in theirs:
            pytorch_fine_tune(args, torch, theirs)
        rows.append((load, ours, (theirs["fine_tune"], theirs["fine_tune_cpu"])))
    print()
    print("Fine-tuning epoch, seconds per 1,000 photos (wall / CPU), interleaved by round; ratio: PyTorch's time ÷ this one's (wall / CPU)")
    head = "| round | load | " + " | ".join("%s wall / CPU | ratio wall / CPU" % n for n, _ in bins) + " | PyTorch wall / CPU |"
    print(head)
    print("|" + " --- |" * (3 + 2 * len(bins)))
    fmt = lambda v: "-" if v is None else "%.1f" % v
    ratio = lambda a, b: "-" if not a or not b else "%.2f×" % (b / a)
    for r, (load, ours, (tw, tc)) in enumerate(rows):
        cells = []
        for w, c in ours:
            cells += ["%s / %s" % (fmt(w), fmt(c)), "%s / %s" % (ratio(w, tw), ratio(c, tc))]
        print("| %d | %.2f | %s | %s / %s |" % (r + 1, load, " | ".join(cells), fmt(tw), fmt(tc)))
    cells = []
    for k in range(len(bins)):
        ws = [ours[k][0] for _, ours, _ in rows]
        cs = [ours[k][1] for _, ours, _ in rows]
        rs = [t[0] / ours[k][0] for _, ours, t in rows if ours[k][0]]
        rc = [t[1] / ours[k][1] for _, ours, t in rows if ours[k][1]]
        cells += ["%s / %s" % (fmt(median(ws)), fmt(median(cs))),
                  "%s / %s" % ("-" if not rs else "%.2f×" % median(rs), "-" if not rc else "%.2f×" % median(rc))]
    print("| median | | %s | %s / %s |" % (" | ".join(cells), fmt(median([t[0] for _, _, t in rows])), fmt(median([t[1] for _, _, t in rows]))))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                   help="PyTorch's device; also Clasifica's provider unless --provider is given")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for both (0: one per core)")
    p.add_argument("--seconds", type=float, default=5, help="seconds to measure each inference batch size and the fine-tuning steps")
    p.add_argument("--clasifica", action="append", default=[], metavar="[NAME=]BIN",
                   help="clasifica binary; give it more than once to compare builds (default: build bin/clasifica from this checkout)")
    p.add_argument("--rounds", type=int, default=1, help="rounds of the fine-tuning measurement, every binary then PyTorch in each")
    p.add_argument("--fine-tune-only", action="store_true", help="measure the fine-tuning row only")
    p.add_argument("--provider", default="", help="Clasifica's execution provider (default: --device)")
    p.add_argument("--runtime", default="", help="ONNX Runtime library for Clasifica (default: Clasifica's own search)")
    p.add_argument("--backbone", default="", help="Clasifica backbone (default: $CLASIFICA_TEST_BACKBONE or .deps/backbones/nsfwjs-inceptionv3)")
    p.add_argument("--skip-clasifica", action="store_true", help="measure PyTorch only")
    p.add_argument("--json", action="store_true", help="print both sides' figures as JSON after the table")
    args = p.parse_args()
    torch, torchvision = import_torch()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("bench-peers: --device cuda, but this PyTorch sees no CUDA device")
    bins = [] if args.skip_clasifica else clasifica_binaries(args)

    load0 = os.getloadavg()
    first = [run_clasifica(args, path) for _, path in bins]
    theirs = run_pytorch(args, torch, torchvision)
    if args.rounds > 1 or len(bins) > 1 or args.fine_tune_only:
        fine_tune_rounds(args, torch, bins, theirs, first)
    load1 = os.getloadavg()

    print()
    print("CPU: %s, %d logical CPUs (%s); load average %.2f before, %.2f after" % (
        cpu_name(), os.cpu_count() or 0, " ".join(cpu_flags()) or "no AVX2", load0[0], load1[0]))
    dev = args.device
    if dev == "cuda":
        dev = "cuda (%s)" % torch.cuda.get_device_name(0)
    if theirs.get("blas_warning"):
        print(theirs["blas_warning"])
    print("PyTorch %s, torchvision %s on %s, %d threads" % (torch.__version__, torchvision.__version__, dev, theirs["threads"]))
    for (name, _), ours in zip(bins, first):
        print("%s: backbone %s on %s, --threads %d" % (name, ours.get("backbone"), ours.get("device", "?"), args.threads))
    if args.fine_tune_only:
        return
    print()
    for (name, _), ours in zip(bins or [("Clasifica", "")], first or [{}]):
        ips = ours.get("inference_images_per_second") or {}
        print("| per 1,000 photos | %s | PyTorch | unit | %s's speed ÷ PyTorch's |" % (name, name))
        print("| --- | --- | --- | --- | --- |")
        print(row("fine-tuning epoch (mixed9 + mixed10 + head, SGD)", ours.get("fine_tune_epoch_seconds_per_1000_images"), theirs["fine_tune"], "s", False))
        print(row("head epoch (Dense 1024, Adam)", ours.get("head_epoch_seconds_per_1000_images"), theirs["head"], "s", False))
        for b in BATCHES:
            print(row("inference, batch %d" % b, ips.get(str(b)), theirs["inference"][str(b)], "images/s", True))
    if args.json:
        theirs = {k: v for k, v in theirs.items() if k not in ("net", "sync")}
        ours = first[0] if len(first) == 1 else dict(zip([n for n, _ in bins], first))
        print(json.dumps({"clasifica": ours, "pytorch": theirs}, indent=1))


if __name__ == "__main__":
    main()
