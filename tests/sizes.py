"""The three terminal sizes every chapter is held to: a laptop, the classic 80x24, a small pane."""

SIZES = [(100, 32), (80, 24), (60, 20)]
SIZE_IDS = ["100x32", "80x24", "60x20"]
