from hyperknob._types import TrialStatus
from hyperknob.study.trial import Trial

__all__ = ["Trial", "TrialStatus"]
