from hyperknob.hypermodel import HyperModel

__all__ = ["HyperModel"]
