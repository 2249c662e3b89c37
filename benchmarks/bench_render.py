"""Render benchmark: run by hand (`make bench`), never from the test suite.

Prints, for every profile: the median wall time of a full in-memory render (templates,
parse-back and all checks, external tools included), the same without checks, and the
process's peak resident memory. Also times one cold `render --all --check` process.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import vitalyst_render as vr

REPEATS = int(os.environ.get("BENCH_REPEATS", "7"))
REPO = Path(__file__).resolve().parent.parent


def median_seconds(action) -> float:
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    print(f"vitalyst-render {vr.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores, {REPEATS} repeats")
    for name in vr.profile_names():
        loaded = vr.load_profile(name)
        load = median_seconds(lambda: vr.load_profile(name))
        bare = median_seconds(lambda: vr.render(loaded))
        full = median_seconds(lambda: vr.check(vr.render(loaded)))
        files = len(vr.render(loaded).files)
        print(f"{name:<8} load {load * 1000:7.1f} ms   render {bare * 1000:7.1f} ms   render+checks {full * 1000:7.1f} ms   {files} files")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak_mib:.1f} MiB")
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "vitalyst_render", "--all", "--check", "--out", str(REPO / "out")],
        capture_output=True,
        cwd=REPO,
    )
    cold = time.perf_counter() - started
    child_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"cold `render --all --check`: {cold:.2f} s, exit {completed.returncode}, peak RSS {child_mib:.1f} MiB")


if __name__ == "__main__":
    main()
