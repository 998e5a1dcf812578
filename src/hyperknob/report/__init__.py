"""Seeing a study: tables and summaries (plots and the HTML report build on these); reads storage only."""

from hyperknob.report.tables import results_dataframe, study_summary, trial_rows

__all__ = ["results_dataframe", "study_summary", "trial_rows"]
