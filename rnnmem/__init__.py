"""rnnmem: memory of recurrent neural networks — fast Numba RNN kernels with exact BPTT, memory functions,
stable approximation (Wang, Li & Li, ICLR 2024) and the implicit bias of linear RNNs (Emami et al., ICML 2021).
"""

from rnnmem import approx, gated, linear, ntk, reparam, ssm, targets
from rnnmem._validate import NonFiniteError, RNNMemError
from rnnmem.gated import GRU, LSTM, StackedRNN, from_torch
from rnnmem.memory import DecayFit, MemoryFunction, exact_memory, fit_decay, memory_function
from rnnmem.rnn import RNN, Gradients
from rnnmem.ssm import DiagonalSSM
from rnnmem.stability import PerturbationCurve, distance_to_instability, perturbation_error, spectral_abscissa
from rnnmem.sweep import sweep
from rnnmem.train import SGD, Adam, FitResult, fit

__version__ = "0.1.0"

__all__ = [
    "RNN", "Gradients", "NonFiniteError", "RNNMemError", "__version__",
    "fit", "Adam", "SGD", "FitResult",
    "memory_function", "exact_memory", "fit_decay", "MemoryFunction", "DecayFit",
    "perturbation_error", "spectral_abscissa", "distance_to_instability", "PerturbationCurve",
    "targets", "reparam", "approx", "linear", "ntk", "sweep",
    "StackedRNN", "GRU", "LSTM", "from_torch", "gated", "DiagonalSSM", "ssm",
]
