"""The real work behind every chapter of the tour: one folder per stage of the pipeline.

Nothing here imports textual or anything in ``tui``/``screens``; heavy libraries
(torch, trafilatura, pyarrow) are imported inside the modules that need them.
"""

__version__ = "0.1.0"
