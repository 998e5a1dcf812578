"""Keep forked GPU workers possible: PyTorch should not initialise the CUDA driver in the parent.

``torch.cuda.is_available()`` (which Keras's PyTorch backend calls when it is imported) initialises
the CUDA driver unless ``PYTORCH_NVML_BASED_CUDA_CHECK=1``, and every forked child then fails at its
first GPU operation with "CUDA error: initialization error" (seen on an H200 with
``search(n_workers=2, devices_per_worker=1)``). Importing hyperknob sets that variable (unless the
user set it) and remembers whether PyTorch was loaded before, when it came too late.
"""

from __future__ import annotations

import os
import sys

TORCH_LOADED_FIRST = "torch" in sys.modules and os.environ.get("PYTORCH_NVML_BASED_CUDA_CHECK") != "1"
os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
