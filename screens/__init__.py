"""One module per chapter of the talk, and the widgets chapters share.

Importing this package loads no torch: heavy engine modules are imported inside
the workers that use them, after the first frame.
"""
