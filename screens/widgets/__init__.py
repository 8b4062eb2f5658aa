"""Widgets that more than one chapter uses; each carries its own DEFAULT_CSS."""
