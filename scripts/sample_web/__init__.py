"""The sample web's generator: writes engine/data/web/sites/ from the facts table."""
