"""The study: ask -> run -> tell over a storage, and the one-call optimize."""

from hyperknob.study.callbacks import StudyCallback
from hyperknob.study.factory import create_study, load_study, optimize
from hyperknob.study.study import Study, StudySettings
from hyperknob.study.trial import MetricObservation, MetricsTracker, Trial

__all__ = [
    "MetricObservation",
    "MetricsTracker",
    "Study",
    "StudyCallback",
    "StudySettings",
    "Trial",
    "create_study",
    "load_study",
    "optimize",
]
