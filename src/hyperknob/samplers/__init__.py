"""Samplers decide WHAT to try next; see ``base.Sampler``."""

from hyperknob.samplers.base import Sampler, TrialsView
from hyperknob.samplers.grid import GridSampler
from hyperknob.samplers.random import RandomSampler

__all__ = ["GridSampler", "RandomSampler", "Sampler", "TrialsView", "make_sampler"]


def make_sampler(algorithm: "str | Sampler") -> Sampler:
    """A sampler from its name ('auto', 'random', 'grid', 'tpe', 'gp', 'nsga2') or an instance."""
    if isinstance(algorithm, Sampler):
        return algorithm
    if algorithm == "random":
        return RandomSampler()
    if algorithm == "grid":
        return GridSampler()
    # The model-based samplers import scipy (about half a second): only when asked for.
    if algorithm == "tpe":
        from hyperknob.samplers.tpe import TPESampler

        return TPESampler()
    if algorithm == "gp":
        from hyperknob.samplers.gp import GPSampler

        return GPSampler()
    if algorithm == "nsga2":
        from hyperknob.samplers.nsga2 import NSGAIISampler

        return NSGAIISampler()
    if algorithm == "auto":
        from hyperknob.samplers.auto import AutoSampler

        return AutoSampler()
    raise ValueError(
        f"Unknown algorithm {algorithm!r}; use one of ['auto', 'gp', 'grid', 'nsga2', 'random', 'tpe'] "
        "or a Sampler instance."
    )
