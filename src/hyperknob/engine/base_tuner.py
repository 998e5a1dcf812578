from hyperknob.tuners.base_tuner import BaseTuner

__all__ = ["BaseTuner"]
