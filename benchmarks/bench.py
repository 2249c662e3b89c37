"""vitalyst-render against the standalone tool chain it replaces. Run by hand (`make bench`),
never from the test suite; docs/performance.md records its results.

    python benchmarks/bench.py                      # everything, 5 repeats
    python benchmarks/bench.py --repeats 3 --scale 10,50,200
    python benchmarks/bench.py --scale ''           # skip the scale runs

Every figure is a median over the repeats (the 1000-service run goes once unless
--repeats-large says otherwise). "Cold" runs get an empty verdict cache each time;
"warm" ones share a cache filled by one earlier run. Peak RSS is the largest resident
set of one `render` process (os.wait4's ru_maxrss).

The standalone chain, timed on the very output `render --profile prod` wrote:
hadolint per Dockerfile; kubernetes-validate --strict on the manifests; promtool check
rules, promtool test rules and promtool check config on every platform's files (each
tool run once with all of its files, as a hand-written CI step would); amtool
check-config; and the compose file validated against the strict compose schema with
jsonschema in a fresh Python process.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RENDER = str(BIN / "render")
CACHE_ENV = "VITALYST_RENDER_CACHE_DIR"

COMPOSE_VALIDATION = """
import json, sys
import jsonschema, yaml
schema = json.load(open(sys.argv[1], encoding="utf-8"))
document = yaml.safe_load(open(sys.argv[2], encoding="utf-8"))
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
sys.exit(1 if errors else 0)
"""


def run(command: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, exit status) of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, **(env or {})}, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def median_of(repeats: int, action: Callable[[], tuple[float, float, int]]) -> tuple[float, float, int]:
    samples = [action() for _ in range(repeats)]
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples), samples[-1][2]


def render_cold(arguments: Sequence[str], out: Path) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        return run([RENDER, *arguments, "--out", str(out)], env={CACHE_ENV: cache})


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU") if Path("/proc/cpuinfo").exists() else platform.processor()
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0) if Path("/proc/meminfo").exists() else 0
    return f"{os.cpu_count()} cores ({model}), {memory} GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def chain_steps(folder: Path, kubernetes_version: str) -> list[tuple[str, list[str]]]:
    """The standalone validators a team would glue together, on one profile's output."""
    hadolint = str(BIN / "hadolint") if (BIN / "hadolint").exists() else "hadolint"
    steps = [(f"hadolint {p.relative_to(folder)}", [hadolint, "--no-fail", str(p)]) for p in sorted(folder.glob("docker/*/Dockerfile"))]
    manifests = sorted(str(p) for p in folder.glob("kubernetes/*.yaml"))
    if manifests:
        steps.append(("kubernetes-validate --strict", [str(BIN / "kubernetes-validate"), "--strict", "--quiet", "-k", kubernetes_version, *manifests]))
    rules = sorted(str(p) for p in folder.glob("prometheus/**/rules.yml"))
    tests = sorted(str(p) for p in folder.glob("prometheus/**/rules.test.yml"))
    configs = sorted(str(p) for p in folder.glob("prometheus/**/prometheus.yml"))
    alertmanagers = sorted(str(p) for p in folder.glob("prometheus/**/alertmanager.yml"))
    steps += [
        ("promtool check rules", ["promtool", "check", "rules", *rules]),
        ("promtool test rules", ["promtool", "test", "rules", *tests]),
        ("promtool check config", ["promtool", "check", "config", *configs]),
        *((f"amtool check-config {Path(p).relative_to(folder)}", ["amtool", "check-config", p]) for p in alertmanagers),
        ("compose schema (fresh python)", [sys.executable, "-c", COMPOSE_VALIDATION, str(REPO / "schemas" / "compose.schema.json"),
                                           str(folder / "compose" / "docker-compose.yml")]),
    ]
    return steps


def in_process(repeats: int, out: Path) -> None:
    import vitalyst_render as vr
    from vitalyst_render.checks import registry

    loaded = vr.load_profile("prod")
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        vr.render(loaded)
        samples.append(time.perf_counter() - started)
    print(f"render only, in process (plan, templates, parse-back): {statistics.median(samples) * 1000:.0f} ms")
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        os.environ[CACHE_ENV] = cache
        loaded = vr.load_profile("prod")
        rendering = vr.render(loaded, out=out)
        report = vr.check(rendering)
        started = time.perf_counter()
        vr.write(rendering, out)
        written = time.perf_counter() - started
        del os.environ[CACHE_ENV]
    names = {check.id: check.name for check in registry().values()}
    print("phases of one cold render --profile prod, in process:")
    for phase, seconds in (*loaded.phases, *rendering.phases):
        print(f"  {phase:<40} {seconds * 1000:8.1f} ms")
    print(f"  {'checks (side by side, wall)':<40} {report.seconds * 1000:8.1f} ms")
    for check_id, seconds in sorted(report.timings, key=lambda item: -item[1]):
        if seconds >= 0.001:
            print(f"    {check_id} {names[check_id]:<34} {seconds * 1000:8.1f} ms")
    print(f"  {'write':<40} {written * 1000:8.1f} ms")


def scale(sizes: Sequence[int], repeats: int, repeats_large: int, scratch: Path) -> None:
    print("scale (cold render --profile-file with N more services than prod, every check):")
    seconds: dict[int, float] = {}
    for n in sizes:
        profile = scratch / f"wide-{n}.yaml"
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "make_profile.py"), "--services", str(n), "--out", str(profile)],
                       check=True, capture_output=True)
        wall, rss, status = median_of(repeats if n < 1000 else repeats_large,
                                      lambda: render_cold(["--profile-file", str(profile)], scratch / f"out-{n}"))
        seconds[n] = wall
        files = sum(1 for p in (scratch / f"out-{n}").rglob("*") if p.is_file())
        print(f"  N={n:<5} {wall:7.2f} s   peak RSS {rss:6.0f} MiB   exit {status}   {files} files")
    if 50 in seconds and 200 in seconds:
        print(f"  200 / 50 services: {seconds[200] / seconds[50]:.2f}x (target <= 4.4x)")
    if 1000 in seconds:
        print(f"  1000 services: {seconds[1000]:.1f} s (target < 30 s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--repeats-large", type=int, default=1, help="repeats of the 1000-service run")
    parser.add_argument("--scale", default="10,50,200,1000", help="comma-separated service counts ('' skips)")
    options = parser.parse_args(argv)
    if shutil.which("promtool") is None or shutil.which("amtool") is None:
        print("promtool and amtool are needed (make tools)", file=sys.stderr)
        return 2
    # Measure the package as installed from a wheel, compiled: an editable install under
    # PYTHONDONTWRITEBYTECODE would compile it again in every process.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "vitalyst_render")], check=True)
    import vitalyst_render as vr

    print(f"vitalyst-render {vr.__version__} on {machine()}; {options.repeats} repeats, medians")
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch_name:
        scratch = Path(scratch_name)
        out = scratch / "out"
        for label, arguments in (("render --help", ["--help"]), ("render --list-profiles", ["--list-profiles"])):
            wall, _, _ = median_of(options.repeats, lambda: run([RENDER, *arguments]))
            print(f"{label:<44} {wall:7.3f} s   (target --help < 0.25 s)" if label == "render --help" else f"{label:<44} {wall:7.3f} s")
        cold, cold_rss, status = median_of(options.repeats, lambda: render_cold(["--profile", "prod"], out))
        print(f"{'render --profile prod, cold (no cache)':<44} {cold:7.3f} s   peak RSS {cold_rss:.0f} MiB   exit {status}")
        with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
            run([RENDER, "--profile", "prod", "--out", str(out)], env={CACHE_ENV: cache})
            warm, warm_rss, _ = median_of(options.repeats, lambda: run([RENDER, "--profile", "prod", "--out", str(out)], env={CACHE_ENV: cache}))
        print(f"{'render --profile prod, warm cache':<44} {warm:7.3f} s   peak RSS {warm_rss:.0f} MiB")
        all_cold, _, _ = median_of(options.repeats, lambda: render_cold(["--all"], out))
        print(f"{'render --all, cold':<44} {all_cold:7.3f} s")

        version = vr.load_profile("prod").profile.environment.kubernetes
        total = 0.0
        print("standalone chain on out/prod:")
        for label, command in chain_steps(out / "prod", version.version if version else "1.31"):
            wall, _, status = median_of(options.repeats, lambda: run(command))
            total += wall
            print(f"  {label:<42} {wall:7.3f} s   exit {status}")
        print(f"  {'chain total':<42} {total:7.3f} s")
        print(f"ratio cold render / chain: {cold / total:.2f} (target <= 0.5); warm: {warm / total:.2f}")

        in_process(options.repeats, scratch / "in-process")
        sizes = [int(n) for n in options.scale.split(",") if n.strip()]
        if sizes:
            scale(sizes, options.repeats, options.repeats_large, scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
