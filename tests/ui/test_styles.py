"""Tours in one process (a room's) parse the tour's CSS once, and map its selectors once,
per theme."""

from __future__ import annotations

import textual.css.stylesheet

from tui.app import TourApp


async def _parses(monkeypatch, app: TourApp) -> int:
    """How many CSS sources ``app`` parsed while it started and drew its first chapter."""
    calls = []
    real = textual.css.stylesheet.parse

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(textual.css.stylesheet, "parse", counting)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    monkeypatch.setattr(textual.css.stylesheet, "parse", real)
    return len(calls)


async def test_a_second_tour_reuses_what_the_first_parsed_and_a_theme_has_its_own(
        workspace, monkeypatch):
    import tui.styles

    monkeypatch.setattr(tui.styles, "_PARSED", {})  # as a fresh process starts
    monkeypatch.setattr(tui.styles, "_MAPS", {})
    first, second = TourApp(workspace, theme="dark"), TourApp(workspace, theme="dark")
    assert await _parses(monkeypatch, first) > 0
    assert await _parses(monkeypatch, second) == 0
    assert second.stylesheet.rules_map is first.stylesheet.rules_map  # the same sources
    light = TourApp(workspace, theme="light")
    assert await _parses(monkeypatch, light) > 0  # other variables: rules of their own
    assert light.theme == "textual-light"
    assert light.stylesheet.rules_map is not first.stylesheet.rules_map
