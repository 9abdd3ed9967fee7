#!/usr/bin/env python3
"""Float and 8-bit images/s, on this CPU and as a CPU with fewer extensions.

Runs `clasifica bench --precision float|int8` natively and under
libcpumask.so (one run per profile and precision per round; every second
round in the reverse order, so that a shared machine's load falls on all
alike) and prints each run's images/s and CPU time per image at each batch
size, then each configuration's medians and the 8-bit/float ratios. Where
the app refuses 8 bits on a (masked) CPU because they failed its accuracy
check there, the line says so; tools/int8-check times them regardless.

  tools/cpumask/compare.py [--rounds 3] [--profiles avx2] [-- BENCH ARGS...]

Run from the repository after `go build -o bin/clasifica .`, with
ONNXRUNTIME_LIB and a backbone set up as for `clasifica bench`.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(ROOT, "tools", "cpumask", "libcpumask.so")


def bench(profile, precision, extra):
    env = dict(os.environ)
    if profile != "native":
        env["LD_PRELOAD"] = LIB
        env["CPUMASK"] = profile
    cmd = [os.path.join(ROOT, "bin", "clasifica"), "bench", "--head=false", "--provider", "cpu", "--format", "json",
           "--precision", precision] + extra
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} ({profile}): {p.stderr.strip()}")
    res = json.loads(p.stdout)
    row = next(r for r in res["providers"] if r.get("inference_images_per_second"))
    return res, row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profiles", default="avx2", help="CPUMASK profiles to compare with native, separated by commas")
    ap.add_argument("bench", nargs="*", help="more arguments for clasifica bench")
    a = ap.parse_args()
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "tools", "cpumask"), "libcpumask.so"], check=True)
    order = [(p, q) for p in ["native"] + a.profiles.split(",") for q in ("float", "int8")]
    with open("/proc/cpuinfo") as f:
        model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    print(f"{model}, {os.cpu_count()} CPUs; images/s and CPU ms per image at each batch size", flush=True)
    rates, cpu, refused = {}, {}, {}
    batches = None
    for i in range(a.rounds):
        for profile, precision in order if i % 2 == 0 else reversed(order):
            res, row = bench(profile, precision, a.bench)
            if res["precision"] != precision:
                # The app refuses 8 bits where they failed its accuracy
                # check on this CPU: say so, and time nothing for it.
                refused[(profile, precision)] = res.get("precision_reason", "")
                print(f"{profile:10} {precision:5}  not run: bench ran {res['precision']}: {refused[(profile, precision)]}", flush=True)
                continue
            batches = [str(b) for b in res["batch_sizes"]]
            r = [row["inference_images_per_second"][b] for b in batches]
            c = [row.get("inference_cpu_ms_per_image", {}).get(b, 0) for b in batches]
            rates.setdefault((profile, precision), []).append(r)
            cpu.setdefault((profile, precision), []).append(c)
            load = open("/proc/loadavg").read().split()[0]
            print(f"{profile:10} {precision:5}  " + " ".join(f"{x:6.1f}" for x in r) + "   cpu ms " +
                  " ".join(f"{x:6.0f}" for x in c) + f"   load {load}", flush=True)
    med = lambda runs, j: statistics.median(run[j] for run in runs)
    print(f"\nmedians over {a.rounds} rounds, batch " + " / ".join(batches))
    for profile in ["native"] + a.profiles.split(","):
        f, q = (profile, "float"), (profile, "int8")
        if q in refused:
            print(f"{profile:10} float " + " / ".join(f"{med(rates[f], j):.1f}" for j in range(len(batches))) +
                  f" images/s; int8 not run ({refused[q]})")
            continue
        speed = " / ".join(f"{med(rates[q], j) / med(rates[f], j):.2f}" for j in range(len(batches)))
        cpus = " / ".join(f"{med(cpu[f], j) / med(cpu[q], j):.2f}" for j in range(len(batches)) if med(cpu[q], j))
        print(f"{profile:10} float " + " / ".join(f"{med(rates[f], j):.1f}" for j in range(len(batches))) +
              ", int8 " + " / ".join(f"{med(rates[q], j):.1f}" for j in range(len(batches))) +
              f" images/s: int8/float {speed} (by CPU time per image {cpus})")


if __name__ == "__main__":
    main()
