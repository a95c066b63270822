"""A course's own exercise: leaky ReLU, added to 02-forward (the worked example of docs/course-exercises.md).

Everything mlpcore needs to check learners' code is here: the reference answer, how the cases are
drawn (visible and hidden), and the mistakes learners make, each as the wrong function it computes.
"""

import numpy as np

from mlpcore.grading import Exercise, Mistake
from mlpcore.guard import reference

SLOPE = 0.01  # the slope for negative inputs that the notebook's text states


@reference  # refuses to run inside a learner's function while it is being checked
def leaky_relu(Z):
    """max(Z, 0.01 Z) element-wise; any shape, Z's dtype."""
    return np.where(Z > 0, Z, SLOPE * Z)


def cases(rng, hidden):
    """Argument tuples: a batch of one, a matrix, float32; hidden adds 1-D, 3-D and exact zeros."""
    shapes = [((1, 4), np.float64), ((5, 3), np.float64), ((4, 6), np.float32)]
    if hidden:
        shapes += [((7,), np.float64), ((2, 3, 4), np.float32), ((30, 10), np.float64)]
    found = [(rng.standard_normal(shape).astype(dtype) * 3,) for shape, dtype in shapes]
    if hidden:
        found.append((np.array([[-2.0, 0.0, 2.0]]),))
    return found


EXERCISES = [
    Exercise("leaky_relu", leaky_relu, cases, outputs=("A",), mistakes=(
        Mistake("negative inputs became 0: that is the plain ReLU; leaky ReLU keeps 0.01 Z for Z < 0",
                lambda Z: np.maximum(Z, 0)),
        Mistake("the slope is 0.01, not 0.1", lambda Z: np.where(Z > 0, Z, 0.1 * Z)),
        Mistake("the branches are swapped: Z for positive inputs, 0.01 Z for negative ones",
                lambda Z: np.where(Z > 0, SLOPE * Z, Z)),
    )),
]
