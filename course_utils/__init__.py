"""Helpers for the deep generative models and metric learning course.

Import the topical modules explicitly, e.g. ``from course_utils import config, data, plots``.
Importing this package does nothing else: no seeding, no rcParams, no downloads.
"""

__version__ = "0.1.0"
