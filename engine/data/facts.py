"""The facts the sample web is written from: every country and its capital.

One table (``capitals.csv``) feeds the page generator, and later the training
evaluation, the conversation data and the tools, so they all agree on the facts.
Countries whose English name needs "the" in a sentence ("the United Kingdom") are
left out, so "The capital of {country} is {capital}." always reads naturally.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CAPITALS_CSV = Path(__file__).with_name("capitals.csv")


@dataclass(frozen=True)
class Capital:
    country: str
    capital: str
    continent: str

    @property
    def sentence(self) -> str:
        """The sentence the training probe continues: "The capital of France is Paris."."""
        return f"The capital of {self.country} is {self.capital}."


@lru_cache(maxsize=1)
def _load(path: str) -> tuple[Capital, ...]:
    with open(path, newline="", encoding="utf-8") as handle:
        return tuple(
            Capital(row["country"].strip(), row["capital"].strip(), row["continent"].strip())
            for row in csv.DictReader(handle)
        )


def load_capitals(path: str | Path = CAPITALS_CSV) -> list[Capital]:
    """Every country in the table with its capital, in table order (grouped by continent)."""
    return list(_load(str(path)))


def capital_of(country: str) -> Capital | None:
    """Look a country up by name, ignoring case."""
    wanted = country.strip().casefold()
    return next((c for c in _load(str(CAPITALS_CSV)) if c.country.casefold() == wanted), None)
