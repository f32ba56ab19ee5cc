"""rnnmem: memory of recurrent neural networks — fast Numba RNN kernels with exact BPTT, memory functions,
stable approximation (Wang, Li & Li, ICLR 2024) and the implicit bias of linear RNNs (Emami et al., ICML 2021).
"""

from rnnmem._validate import NonFiniteError, RNNMemError
from rnnmem.rnn import RNN, Gradients

__version__ = "0.1.0"

__all__ = ["RNN", "Gradients", "NonFiniteError", "RNNMemError", "__version__"]
