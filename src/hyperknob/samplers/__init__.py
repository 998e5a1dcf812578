"""Samplers decide WHAT to try next; see ``base.Sampler``."""

from hyperknob.samplers.base import Sampler, TrialsView
from hyperknob.samplers.grid import GridSampler
from hyperknob.samplers.random import RandomSampler

__all__ = ["GridSampler", "RandomSampler", "Sampler", "TrialsView", "make_sampler"]


def make_sampler(algorithm: "str | Sampler") -> Sampler:
    """A sampler from its name ('random', 'grid') or an instance."""
    if isinstance(algorithm, Sampler):
        return algorithm
    from hyperknob.samplers.gp import GPSampler
    from hyperknob.samplers.tpe import TPESampler

    names = {"random": RandomSampler, "grid": GridSampler, "tpe": TPESampler, "gp": GPSampler}

    if algorithm not in names:
        raise ValueError(f"Unknown algorithm {algorithm!r}; use one of {sorted(names)} or a Sampler instance.")
    return names[algorithm]()
