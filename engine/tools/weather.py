"""A simulated weather service: fresh information that no training text can hold.

The tour runs offline, so the weather is made up, and every reading the viewer sees
says so. The model sees the reading as the talk writes it ("72°F and clear"). It is
made up the same way every time: a reading is a function of the city and the day
(counted from today), so a question asked twice gets the same answer and tests can
rely on it. Paris today reads "72°F and clear", as in the talk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass

_SKIES = ("clear", "sunny", "partly cloudy", "cloudy", "overcast", "light rain", "rain",
          "windy", "foggy", "thunderstorms")
_COLD_SKIES = ("clear", "cloudy", "overcast", "light snow", "snow", "freezing fog")
_LOW_F, _HIGH_F = 28, 95

# The talk's own reading, kept so the tour and the talk agree on the example.
_PINNED = {("paris", 0): (72, "clear")}

_DAY_WORDS = {"yesterday": -1, "today": 0, "now": 0, "right now": 0, "tonight": 0, "tomorrow": 1}
_CITY_CHARS = re.compile(r"^[\w .'’()-]+$")


class WeatherError(ValueError):
    """A request the weather service cannot answer, with the reason."""


@dataclass(frozen=True)
class Reading:
    city: str
    day: dt.date
    offset: int  # days from today: -1 yesterday, 0 today, 1 tomorrow
    temperature_f: int
    sky: str

    @property
    def text(self) -> str:
        """As the talk writes it: "72°F and clear"."""
        return f"{self.temperature_f}°F and {self.sky}"

    @property
    def note(self) -> str:
        """Said beside every reading the viewer sees."""
        return f"simulated weather for {self.city}, {self.day.isoformat()}: the tour runs offline"


def normalise_city(city: str) -> str:
    """The key a city is looked up by: case, accents and spacing do not matter."""
    folded = unicodedata.normalize("NFKD", city).encode("ascii", "ignore").decode("ascii")
    return " ".join(folded.casefold().replace("’", "'").split())


def day_offset(day: str | int | dt.date | None, today: dt.date | None = None) -> int:
    """Days from today for "today", "tomorrow", "yesterday", an ISO date, or an int."""
    today = today or dt.date.today()
    if day is None:
        return 0
    if isinstance(day, bool):
        raise WeatherError("the day must be a word like 'today' or a date like 2026-05-28")
    if isinstance(day, int):
        offset = day
    elif isinstance(day, dt.date):
        offset = (day - today).days
    elif isinstance(day, str):
        word = " ".join(day.casefold().split())
        if word in _DAY_WORDS:
            offset = _DAY_WORDS[word]
        else:
            try:
                offset = (dt.date.fromisoformat(word) - today).days
            except ValueError:
                raise WeatherError(f"{day[:40]!r} is not a day the service knows: use today, "
                                   "tomorrow, yesterday or a date like 2026-05-28") from None
    else:
        raise WeatherError("the day must be a word like 'today' or a date like 2026-05-28")
    if abs(offset) > 7:
        raise WeatherError("the service only has readings for a week either side of today")
    return offset


def forecast(city: str, day: str | int | dt.date | None = "today",
             today: dt.date | None = None) -> Reading:
    """The simulated reading for a city on a day; the same inputs give the same reading."""
    if not isinstance(city, str) or not city.strip():
        raise WeatherError("the weather service needs a city")
    city = " ".join(city.split())
    if len(city) > 60 or not _CITY_CHARS.match(city):
        raise WeatherError(f"{city[:60]!r} does not look like a city name")
    today = today or dt.date.today()
    offset = day_offset(day, today)
    key = normalise_city(city)
    if (key, offset) in _PINNED:
        temperature, sky = _PINNED[(key, offset)]
    else:
        digest = hashlib.sha256(f"{key}|{offset}".encode()).digest()
        temperature = _LOW_F + digest[0] % (_HIGH_F - _LOW_F + 1)
        skies = _COLD_SKIES if temperature <= 36 else _SKIES
        sky = skies[digest[1] % len(skies)]
    return Reading(city, today + dt.timedelta(days=offset), offset, temperature, sky)


def weather(city: str, day: str = "today") -> tuple[str, str]:
    """The tool: the reading as the talk writes it, for the context ("72°F and clear"),
    and the note that says it is simulated, for the viewer."""
    reading = forecast(city, day)
    return reading.text, reading.note
