from hyperknob.tuners.tuner import Tuner

__all__ = ["Tuner"]
