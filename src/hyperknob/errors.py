"""KerasTuner's ``errors`` module name, so ``kt.errors.FailedTrialError`` keeps working after a port."""

from hyperknob.exceptions import (
    FailedTrialError,
    FatalError,
    FatalRuntimeError,
    FatalTypeError,
    FatalValueError,
)

__all__ = ["FailedTrialError", "FatalError", "FatalRuntimeError", "FatalTypeError", "FatalValueError"]
