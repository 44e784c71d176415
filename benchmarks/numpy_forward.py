"""Generated NumPy forward against generated PyTorch forward, on an MLP and the mnist convnet.

Both modules are generated from the same spec and load the same random weights (netspec's
weight file); the outputs are compared, then each forward is timed on the same batch, the two
alternating, `--repeat` times (medians). The ratio is NumPy's median over PyTorch's (eval
mode, no grad). Both run on one thread (BENCH_THREADS=n for n) and the time measured is the
thread's CPU time, which other processes on a busy machine do not inflate.

Run: python benchmarks/numpy_forward.py [--batch 128] [--repeat 30]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

THREADS = os.environ.get("BENCH_THREADS", "1")
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = THREADS  # before numpy starts its BLAS

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Keras' mnist_mlp example: 784-512-512-10.
MLP = """
model mlp {
    input [784]
    dense(512, activation=relu)
    dropout(0.2)
    dense(512, activation=relu)
    dropout(0.2)
    dense(10, activation=softmax)
}
"""
SPECS = {"mlp": (MLP, (784,)), "mnist_convnet": (None, (28, 28, 1))}


def _load(source: str, folder: Path, name: str):
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compare(name: str, text: str, shape: tuple[int, ...], batch: int, repeat: int) -> float:
    import torch

    from netspec.api import generate_source

    torch.set_num_threads(int(THREADS))
    clock = time.thread_time if THREADS == "1" else time.perf_counter
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        np_module = _load(generate_source(text, f"{name}.ns", "numpy"), folder, f"np_{name}")
        torch_module = _load(generate_source(text, f"{name}.ns", "torch"), folder, f"pt_{name}")
        (np_class,) = [v for v in vars(np_module).values() if isinstance(v, type)]
        np_model = np_class()
        np_model.weights = {
            key: rng.normal(0, 0.05, value.shape).astype(np.float32)
            for key, value in np_model.weights.items()
        }
        np_module.save_npz(np_model, folder / "weights.npz")
        (torch_class,) = [
            v
            for v in vars(torch_module).values()
            if isinstance(v, type)
            and issubclass(v, torch.nn.Module)
            and hasattr(v, "KERAS_WEIGHTS")
        ]
        torch_model = torch_class().eval()
        torch_module.load_npz(torch_model, folder / "weights.npz")
    x = rng.random((batch, *shape), dtype=np.float32)
    x_torch = torch.from_numpy(
        np.ascontiguousarray(np.moveaxis(x, -1, 1) if len(shape) == 3 else x)
    )
    with torch.no_grad():
        expected = torch_model(x_torch).numpy()
        np.testing.assert_allclose(np_model(x), expected, rtol=1e-4, atol=1e-5)
        np_times, torch_times = [], []
        for _ in range(repeat):
            start = clock()
            np_model(x)
            middle = clock()
            torch_model(x_torch)
            np_times.append(middle - start)
            torch_times.append(clock() - middle)
    np_ms, torch_ms = statistics.median(np_times) * 1e3, statistics.median(torch_times) * 1e3
    ratio = np_ms / torch_ms
    print(f"{name:<16}{batch:>7}{np_ms:>12.2f}{torch_ms:>12.2f}{ratio:>9.2f}x")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    clock = "thread CPU time" if THREADS == "1" else "wall time"
    print(f"threads: {THREADS} ({clock}); median of {args.repeat} alternating runs")
    print(f"{'model':<16}{'batch':>7}{'numpy ms':>12}{'torch ms':>12}{'ratio':>10}")
    for name, (text, shape) in SPECS.items():
        if text is None:
            text = (ROOT / "examples" / f"{name}.ns").read_text(encoding="utf-8")
        compare(name, text, shape, args.batch, args.repeat)


if __name__ == "__main__":
    main()
