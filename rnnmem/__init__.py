"""rnnmem: memory of recurrent neural networks — fast Numba RNN kernels with exact BPTT, memory functions,
stable approximation (Wang, Li & Li, ICLR 2024) and the implicit bias of linear RNNs (Emami et al., ICML 2021).

``import rnnmem`` loads NumPy and Numba only; SciPy submodules are imported by the functions that use them, and
the submodules with heavy optional dependencies are attributes loaded on first access: ``rnnmem.plot``
(matplotlib) and ``rnnmem.testing`` (Hypothesis strategies).
"""

from __future__ import annotations

import importlib
from typing import Any

from rnnmem import approx, gated, linear, ntk, reparam, ssm, targets
from rnnmem._validate import NonFiniteError, RNNMemError
from rnnmem.gated import GRU, LSTM, StackedRNN, from_torch
from rnnmem.memory import DecayFit, MemoryFunction, exact_memory, fit_decay, memory_function
from rnnmem.rnn import RNN, Gradients
from rnnmem.ssm import DiagonalSSM
from rnnmem.stability import (
    PerturbationCurve,
    distance_to_instability,
    perturbation_error,
    spectral_abscissa,
    spectral_radius,
)
from rnnmem.sweep import sweep
from rnnmem.train import SGD, Adam, FitResult, fit

__version__ = "0.2.0"

__all__ = [
    "RNN", "Gradients", "NonFiniteError", "RNNMemError", "__version__",
    "fit", "Adam", "SGD", "FitResult",
    "memory_function", "exact_memory", "fit_decay", "MemoryFunction", "DecayFit",
    "perturbation_error", "spectral_abscissa", "spectral_radius", "distance_to_instability", "PerturbationCurve",
    "targets", "reparam", "approx", "linear", "ntk", "sweep",
    "StackedRNN", "GRU", "LSTM", "from_torch", "gated", "DiagonalSSM", "ssm",
]

#: submodules imported on first attribute access (``rnnmem.plot`` needs matplotlib, ``rnnmem.testing`` Hypothesis)
_LAZY_SUBMODULES = ("plot", "testing")


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        module = importlib.import_module(f"rnnmem.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'rnnmem' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
