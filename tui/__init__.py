"""The shell that hosts the chapters: the App, navigation, header, help, themes and the CLI."""

__version__ = "0.1.0"
