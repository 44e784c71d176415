"""Generated PyTorch ResNet50 forward against a hand-written one: time and peak memory.

Each variant runs in a fresh process: build the model (eval mode, no grad), one warm-up
forward of a batch of 8 224x224 images, then `--repeat` timed forwards (median). Peak memory is
the process's resident high-water mark during the timed forwards above what it held before them
(the kernel's peak is reset through /proc/self/clear_refs; where that cannot be written, the
growth of getrusage's maxrss is shown). tracemalloc would not see torch's allocator.
Runs alternate between the variants, and the ratio is of medians measured in the same run.

Run: python benchmarks/torch_forward.py [--repeat 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "resnet50.ns"
BATCH = 8


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _build(variant: str, folder: str):
    if variant == "hand-written":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from resnet50_torch import ResNet50

        return ResNet50()
    import importlib.util

    from netspec.api import generate_source

    path = Path(folder) / "generated_resnet50.py"
    path.write_text(generate_source(SPEC.read_text(encoding="utf-8"), SPEC.name, "torch"))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Resnet50()


def measure(variant: str, repeat: int) -> dict[str, float]:
    """One variant, in this (fresh) process."""
    import torch

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        model = _build(variant, folder).eval()
    images = torch.rand(BATCH, 3, 224, 224)
    times = []
    with torch.no_grad():
        model(images)  # warm-up: oneDNN picks its kernels, the allocator its pools
        before = _status_kib("VmRSS")
        reset = _reset_peak()
        maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(repeat):
            start = time.perf_counter()
            model(images)
            times.append(time.perf_counter() - start)
    if reset and before is not None:
        peak = (_status_kib("VmHWM") or 0) - before
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before
    return {"seconds": statistics.median(times), "peak_kib": float(peak)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed forwards per process")
    parser.add_argument("--rounds", type=int, default=3, help="processes per variant")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(measure(args.variant, args.repeat)))
        return
    variants = ("hand-written", "generated")
    results: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(args.rounds):
        for variant in variants:
            command = [sys.executable, __file__, "--variant", variant, "--repeat", str(args.repeat)]
            out = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
            results[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"ResNet50 forward, batch {BATCH}x3x224x224, CPU, torch threads per process: default")
    print(f"{'variant':<14}{'median s':>10}{'peak MiB':>10}")
    medians = {}
    for variant in variants:
        seconds = statistics.median(r["seconds"] for r in results[variant])
        peak = statistics.median(r["peak_kib"] for r in results[variant]) / 1024
        medians[variant] = (seconds, peak)
        print(f"{variant:<14}{seconds:>10.3f}{peak:>10.0f}")
    (base_s, base_m), (gen_s, gen_m) = medians["hand-written"], medians["generated"]
    print(
        f"ratio generated / hand-written: time {gen_s / base_s:.2f}x, peak memory {gen_m / base_m:.2f}x"
    )


if __name__ == "__main__":
    main()
