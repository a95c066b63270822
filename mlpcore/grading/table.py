"""Every exercise by name: the one table that checks, the grader and the test-cell reader read.

It is filled by :mod:`mlpcore.grading.registry`: mlpcore's own exercises when it is imported,
a course's when the course's exercise files are loaded.
"""

from .registry import EXERCISES

__all__ = ["EXERCISES"]
