"""Every built-in sampler passes the sampler contract (hyperknob.testing.sampler_contract)."""

from __future__ import annotations

from hyperknob.samplers import GridSampler, RandomSampler
from hyperknob.samplers.auto import AutoSampler
from hyperknob.samplers.gp import GPSampler
from hyperknob.samplers.nsga2 import NSGAIISampler
from hyperknob.samplers.tpe import TPESampler
from hyperknob.testing.sampler_contract import SamplerContract


class TestRandomSampler(SamplerContract):
    def make_sampler(self):
        return RandomSampler()


class TestGridSampler(SamplerContract):
    def make_sampler(self):
        return GridSampler()


class TestTPESampler(SamplerContract):
    def make_sampler(self):
        return TPESampler()


class TestGPSampler(SamplerContract):
    def make_sampler(self):
        return GPSampler()


class TestNSGAIISampler(SamplerContract):
    def make_sampler(self):
        return NSGAIISampler(population_size=4)  # small: the checks' 16 trials reach generation 3


class TestAutoSampler(SamplerContract):
    def make_sampler(self):
        return AutoSampler()
