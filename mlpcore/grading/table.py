"""Every exercise by name: the one table that :func:`mlpcore.grading.check` reads."""

from .draws import DRAW_EXERCISES
from .exercises import FUNCTION_EXERCISES
from .gradcheck_exercises import GRADCHECK_EXERCISES
from .network_exercises import NETWORK_EXERCISES
from .optimizers import OPTIMIZER_EXERCISES

EXERCISES = {e.name: e for e in FUNCTION_EXERCISES + NETWORK_EXERCISES + DRAW_EXERCISES + OPTIMIZER_EXERCISES
             + GRADCHECK_EXERCISES}
