"""Seeing a study: tables and summaries (plots and the HTML report build on these); reads storage only.

``importance``, ``partial_dependence``, ``ablation_path`` and ``advice`` say which hyperparameters
matter and what to change next (scikit-learn for the forest: ``pip install 'hyperknob[sklearn]'``).
"""

from hyperknob.report.advice import ablation_path, advice, partial_dependence
from hyperknob.report.importances import Estimate, Importances, PairEstimate
from hyperknob.report.sensitivity import importance
from hyperknob.report.tables import results_dataframe, study_summary, trial_rows

__all__ = [
    "Estimate",
    "Importances",
    "PairEstimate",
    "ablation_path",
    "advice",
    "importance",
    "partial_dependence",
    "results_dataframe",
    "study_summary",
    "trial_rows",
]
