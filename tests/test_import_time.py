"""``import rnnmem`` stays light (issue 13): NumPy and Numba only; SciPy submodules are imported by the functions
that use them, and ``rnnmem.plot`` (matplotlib) and ``rnnmem.testing`` (Hypothesis) load on first access.

The first test is the real check: a fresh interpreter that imports rnnmem must not have imported any heavy module.
The second is only a **regression guard** with a generous margin (the project bans timing asserts otherwise): it
compares the CPU time of ``import rnnmem`` with that of ``import numba`` (rnnmem's own floor), both measured inside
fresh child processes as ``time.process_time()`` around the import, best of several, with the bytecode of both
compiled beforehand into a private cache. The target of issue 13 is a ratio <= 1.5 (measured ≈ 1.2–1.3 when this
test was written, and ≈ 2.6 before the imports were made lazy); the guard fails only above 2.5.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: modules that ``import rnnmem`` must not import (numba itself imports the top-level ``scipy`` package)
HEAVY = ("scipy.optimize", "scipy.signal", "scipy.linalg", "scipy.fft", "scipy.special", "scipy.sparse",
         "matplotlib", "hypothesis", "torch", "dask", "jax", "pandas", "sklearn", "statsmodels", "tqdm")


def _child(code: str, env: dict | None = None) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300, check=True)
    return out.stdout.strip().splitlines()[-1]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def test_import_rnnmem_imports_no_heavy_module():
    loaded = json.loads(_child("import json, sys, rnnmem; print(json.dumps(sorted(sys.modules)))", _env()))
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert not heavy, f"import rnnmem imported {heavy[:10]} (make these imports function-level or lazy)"
    assert "numba" in loaded and "rnnmem.linear" in loaded


def test_plot_and_testing_are_lazy_attributes():
    code = ("import json, sys, rnnmem as rm; before = 'matplotlib' in sys.modules or 'hypothesis' in sys.modules; "
            "ok = callable(rm.plot.plot_gram) and callable(rm.testing.rnns); "
            "print(json.dumps([before, ok, 'hypothesis' in sys.modules]))")
    before, ok, after = json.loads(_child(code, _env()))
    assert (before, ok, after) == (False, True, True)


def _import_cpu_seconds(module: str, env: dict) -> float:
    code = f"import time; t = time.process_time(); import {module}; print(time.process_time() - t)"
    return float(_child(code, env))


@pytest.mark.skipif(sys.platform == "win32", reason="process_time of a cold interpreter is coarse on Windows")
def test_import_time_ratio_regression_guard(tmp_path):
    """Regression guard only (see the module docstring): best-of-5 CPU-time ratio of ``import rnnmem`` to
    ``import numba`` in fresh processes stays below 2.5 (target <= 1.5)."""
    env = _env(PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"))
    _child("import rnnmem.linear, rnnmem.stability, rnnmem.ntk, rnnmem.approx; print(0)", env)  # compile bytecode
    numba_t = min(_import_cpu_seconds("numba", env) for _ in range(5))
    rnnmem_t = min(_import_cpu_seconds("rnnmem", env) for _ in range(5))
    ratio = rnnmem_t / numba_t
    print(f"import rnnmem {rnnmem_t:.3f} s CPU, import numba {numba_t:.3f} s CPU: ratio {ratio:.2f}")
    assert ratio < 2.5, f"import rnnmem takes {ratio:.2f}x the CPU time of import numba (target <= 1.5)"
