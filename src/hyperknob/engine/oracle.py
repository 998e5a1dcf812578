from hyperknob.objective import Objective
from hyperknob.oracles.oracle import Oracle, synchronized

__all__ = ["Objective", "Oracle", "synchronized"]
