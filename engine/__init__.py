"""The real work behind every chapter of the tour: one folder per stage of the pipeline.

Nothing here imports textual or anything in ``tui``/``screens``; heavy libraries
(torch, trafilatura, pyarrow) are imported inside the modules that need them.
"""

__version__ = "0.1.0"

import os as _os

# Arrow's default allocator (mimalloc) keeps what it once took; the tour's tables are small,
# and the system allocator gives memory back, so a process that read the dataset once does
# not stay tens of MB larger (a room server, the page checks). An explicit choice stands.
_os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
