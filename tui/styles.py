"""Textual's stylesheet, with what it parses shared by every tour in the process.

Each Textual app parses its CSS (the tour's ``tour.tcss`` and every widget's ``DEFAULT_CSS``)
into rules of its own. A room serves every viewer's tour from one process, and a viewer who
steps away opens a tour. Each parsed the same CSS again, and rebuilt the map from selectors
to rules each time a widget of a new kind brought its CSS. Here both are kept once per set of
CSS variables (a theme) for every tour: the rules per CSS source, the map per sequence of
sources. Both are only read once made. (``benchmarks/tour_open.py``: a tour's first frame
takes 0.80-0.92 of the CPU time it took, and the loaded chapter 0.91-0.94.)
"""

from __future__ import annotations

from textual.css.model import RuleSet
from textual.css.stylesheet import CSSLocation, Stylesheet

# (variables, css, where it was read from, default rules?, tie breaker, scope) -> its rules;
# a few themes times the tour's CSS sources: small, and bounded
_PARSED: dict[tuple, list[RuleSet]] = {}
MAX_PARSED = 2048
# (variables, every source in the order it was added) -> the map from selector names to
# rules that styling a widget looks up; built again each time a widget of a new kind brings
# its CSS, which cost a tour opening about as much as parsing did
_MAPS: dict[tuple, dict[str, list[RuleSet]]] = {}
MAX_MAPS = 512


def _keep(store: dict, key: tuple, value: object, most: int) -> None:
    if len(store) >= most:
        store.clear()
    store[key] = value


class SharedStylesheet(Stylesheet):
    """A stylesheet whose parsed rules come from, and go to, the process's shared store."""

    def __init__(self, *, variables: dict[str, str] | None = None) -> None:
        super().__init__(variables=variables)
        self._variables_key = frozenset(self._variables.items())

    def set_variables(self, variables: dict[str, str]) -> None:
        super().set_variables(variables)
        self._variables_key = frozenset(self._variables.items())

    def copy(self) -> SharedStylesheet:
        stylesheet = SharedStylesheet(variables=self._variables.copy())
        stylesheet.source = self.source.copy()
        return stylesheet

    def _parse_rules(self, css: str, read_from: CSSLocation, is_default_rules: bool = False,
                     tie_breaker: int = 0, scope: str = "") -> list[RuleSet]:
        key = (self._variables_key, css, read_from, is_default_rules, tie_breaker, scope)
        rules = _PARSED.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            _keep(_PARSED, key, rules, MAX_PARSED)
        return rules

    @property
    def rules_map(self) -> dict[str, list[RuleSet]]:
        if self._rules_map is None:
            key = (self._variables_key, tuple(self.source.items()))
            rules_map = _MAPS.get(key)
            if rules_map is None:
                rules_map = super().rules_map
                _keep(_MAPS, key, rules_map, MAX_MAPS)
            self._rules_map = rules_map
        return self._rules_map
