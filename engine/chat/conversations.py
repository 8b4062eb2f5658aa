"""The conversation dataset: examples of the assistant the model should become.

Three kinds, as in the talk's Conversation Dataset:

- written by hand, where the talk has an answer to imitate (the wedding toast, the
  apples-and-oranges word problem worked step by step, a greeting);
- generated from the facts the sample web was written from (``engine.data.facts``):
  capital questions in many phrasings, each answered in one sentence ("The capital of
  France is Paris."), so the base model's pretrained knowledge comes out as a reply;
- tool use for what no training text can hold: today's weather in a city (a call to the
  simulated ``weather`` tool, then a reply that uses its reading), arithmetic (the
  ``calculator``) and looking something up (``search``).

A fixed share of countries is held out: neither their capital questions nor their
capitals' weather appear here, so tests and the Tools chapter can ask about them and
see whether the format, not the example, was learned. Everything is deterministic: the
same table gives the same conversations in the same order.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from engine.chat.copying import PARIS, CopyingConfig, copying_conversations, weather_turns
from engine.chat.format import VALUE_SPACE, Turn, call_text

if TYPE_CHECKING:
    from engine.data.facts import Capital

SEED = 1337
HELD_OUT_SHARE = 0.25  # of countries, chosen by a hash of the name
# The tour's running example is asked everywhere; it is always among the trained ones.
ALWAYS_TRAINED = ("France",)

# One call format per tool, in the talk's relaxed object syntax.
TOOLS = ("search", "weather", "calculator")


def weather_call(city: str, day: str = "today", space: str = VALUE_SPACE) -> str:
    """``weather({ city: " Paris" })``, with ``day`` only when it is not today."""
    if day == "today":
        return call_text("weather", space, city=city)
    return call_text("weather", space, city=city, day=day)


def search_call(query: str, space: str = VALUE_SPACE) -> str:
    return call_text("search", space, query=query)


def calculator_call(expression: str, space: str = VALUE_SPACE) -> str:
    return call_text("calculator", space, expression=expression)


@dataclass(frozen=True)
class Conversation:
    """One training example: its kind (for stats and for picking examples) and its turns."""

    kind: str  # "handwritten", "capital", "weather", "calculator", "search", "smalltalk",
    # "followup"
    turns: tuple[Turn, ...]

    @property
    def text(self) -> str:
        return "\n".join(turn.text for turn in self.turns)


# --- written by hand ------------------------------------------------------------------

APPLES_QUESTION = (
    "Emily buys 3 apples and 2 oranges. Each orange costs $2. The total cost of all the "
    "fruit is $13. What is the cost of each apple?"
)
APPLES_ANSWER = (
    "The oranges cost 2 × $2 = $4. The total is $13, so the apples cost $13 - $4 = $9. "
    "There are 3 apples, so each apple costs $9 ÷ 3 = $3."
)
TOAST_ANSWER = (
    "A good wedding toast should be personal, brief, and kind. Tell one true story, name "
    "one real emotion, and end by honoring the couple."
)

HANDWRITTEN: tuple[tuple[tuple[str, str], ...], ...] = (
    (("user", "How do I give a good wedding toast?"), ("assistant", TOAST_ANSWER)),
    (("user", "I have to give a toast at my sister's wedding. Any advice?"),
     ("assistant", TOAST_ANSWER)),
    (("user", "What makes a wedding toast good?"), ("assistant", TOAST_ANSWER)),
    (("user", APPLES_QUESTION), ("assistant", APPLES_ANSWER)),
    (("user", ("I buy 3 apples and 2 oranges. Each orange costs $2 and the total is $13. "
               "How much does one apple cost?")), ("assistant", APPLES_ANSWER)),
    (("user", "Hello!"), ("assistant", "Hello! Ask me a question and I will answer it.")),
    (("user", "Hi, who are you?"),
     ("assistant", ("I am a small language model. I was trained on a sample of web pages, "
                    "then fine-tuned on conversations like this one."))),
    (("user", "Thank you!"), ("assistant", "You're welcome!")),
    (("user", "What can you do?"),
     ("assistant", ("I can answer questions about the capitals of countries, look up the "
                    "weather with a tool, and do arithmetic with a calculator."))),
    (("user", "Can you roast the couple at a wedding?"),
     ("assistant", ("A wedding toast works better when it is kind. Tell one true story "
                    "and end by honoring the couple."))),
)

# --- capital questions ------------------------------------------------------------------

CAPITAL_PHRASINGS = (
    "What is the capital of {country}?",
    "What's the capital of {country}?",
    "what is the capital of {country}",
    "Which city is the capital of {country}?",
    "What is the capital city of {country}?",
    "Tell me the capital of {country}.",
    "Name the capital of {country}.",
    "Do you know the capital of {country}?",
    "Capital of {country}?",
    "I'm studying geography. What is the capital of {country}?",
    "Quick question: what's the capital city of {country}?",
    "Can you tell me what the capital of {country} is?",
    "Which city is {country}'s capital?",
    "{country} has a capital. Which city is it?",
    "In {country}, which city is the capital?",
)

# --- the weather ------------------------------------------------------------------------

WEATHER_PHRASINGS = {
    "today": (
        "What's the weather in {city} today?",
        "What is the weather like in {city} today?",
        "How is the weather in {city} right now?",
        "Is it raining in {city} today?",
        "Weather in {city} today?",
        "I'm going out in {city}. What's the weather today?",
        "Do I need an umbrella in {city} today?",
        "How warm is it in {city} today?",
        "Tell me today's weather in {city}.",
        "what's the weather in {city}",
    ),
    "tomorrow": (
        "What will the weather be in {city} tomorrow?",
        "What's the forecast for {city} tomorrow?",
        "Will it rain in {city} tomorrow?",
    ),
}

# How each sky reads in a sentence ("It is {sky} and about 72°F in Paris today.").
SKY_PHRASES = {
    "light rain": "raining lightly",
    "rain": "raining",
    "thunderstorms": "stormy",
    "light snow": "snowing lightly",
    "snow": "snowing",
    "freezing fog": "foggy and freezing",
}


def weather_reply(city: str, temperature_f: int, sky: str, day: str = "today") -> str:
    """The talk's reply: "It is clear and about 72°F in Paris today."."""
    phrase = SKY_PHRASES.get(sky, sky)
    if day == "tomorrow":
        return f"It will be {phrase} and about {temperature_f}°F in {city} tomorrow."
    return f"It is {phrase} and about {temperature_f}°F in {city} today."


# --- the calculator -----------------------------------------------------------------------

ARITHMETIC_PHRASINGS = (
    "What is {a} {op} {b}?",
    "What's {a} {op} {b}?",
    "Calculate {a} {op} {b}.",
    "How much is {a} {op} {b}?",
    "{a} {op} {b} = ?",
    "Can you work out {a} {op} {b}?",
)
# the symbol a person writes -> the operator the calculator is given
OPERATORS = {"+": "+", "-": "-", "×": "*", "÷": "/"}

# --- search -------------------------------------------------------------------------------

SEARCH_PHRASINGS = (
    "Search the web for the capital of {country}.",
    "Look up the capital of {country}.",
    "Can you search for the capital city of {country}?",
)
SEARCH_PASSAGES = (
    ("Students often mix up cities, regions, and countries when learning geography. "
     "The capital of {country} is {capital}."),
    "A Quick Guide To {continent} Capitals. The capital of {country} is {capital}.",
    "{country} is a country in {continent}. The capital of {country} is {capital}.",
)


# --- the held-out split -------------------------------------------------------------------


def _is_held_out(country: str) -> bool:
    if country in ALWAYS_TRAINED:
        return False
    digest = hashlib.sha256(country.encode("utf-8")).digest()
    return digest[0] < int(256 * HELD_OUT_SHARE)


def _capitals() -> list[Capital]:
    from engine.data.facts import load_capitals

    return load_capitals()


def held_out_capitals() -> list[Capital]:
    """The ``Capital`` rows kept out of every training conversation."""
    return [c for c in _capitals() if _is_held_out(c.country)]


def trained_capitals() -> list[Capital]:
    """The ``Capital`` rows the conversations ask about."""
    return [c for c in _capitals() if not _is_held_out(c.country)]


def held_out_countries() -> list[str]:
    return [c.country for c in held_out_capitals()]


def held_out_cities() -> list[str]:
    """Capitals of held-out countries: no weather conversation mentions them."""
    return [c.capital for c in held_out_capitals()]


# --- building the dataset ------------------------------------------------------------------


def _handwritten() -> list[Conversation]:
    return [Conversation("handwritten", tuple(Turn(role, text) for role, text in pair))
            for pair in HANDWRITTEN]


def _capital_conversations(rng: random.Random, rows: list[Capital],
                           phrasings_per_country: int) -> list[Conversation]:
    out = []
    for row in rows:
        for phrasing in rng.sample(CAPITAL_PHRASINGS, phrasings_per_country):
            out.append(Conversation("capital", (
                Turn("user", phrasing.format(country=row.country)),
                Turn("assistant", row.sentence),
            )))
    return out


def _weather_turns(city: str, day: str, space: str) -> list[Turn]:
    from engine.tools.weather import forecast

    reading = forecast(city, day)
    return [
        Turn("tool_call", weather_call(city, day, space)),
        Turn("tool_result", reading.text),
        Turn("assistant", weather_reply(city, reading.temperature_f, reading.sky, day)),
    ]


def _weather_conversations(rng: random.Random, rows: list[Capital],
                           per_city: int, space: str) -> list[Conversation]:
    out = []
    for row in rows:
        for phrasing in rng.sample(WEATHER_PHRASINGS["today"], per_city):
            out.append(Conversation("weather", (
                Turn("user", phrasing.format(city=row.capital)),
                *_weather_turns(row.capital, "today", space),
            )))
        if rng.random() < 0.3:
            phrasing = rng.choice(WEATHER_PHRASINGS["tomorrow"])
            out.append(Conversation("weather", (
                Turn("user", phrasing.format(city=row.capital)),
                *_weather_turns(row.capital, "tomorrow", space),
            )))
    return out


def _followups(rng: random.Random, count: int, space: str) -> list[Conversation]:
    """Two questions in one conversation: a capital, then the weather there."""
    out = []
    for row in rng.sample(trained_capitals(), count):
        out.append(Conversation("followup", (
            Turn("user", rng.choice(CAPITAL_PHRASINGS).format(country=row.country)),
            Turn("assistant", row.sentence),
            Turn("user", rng.choice(("What's the weather there today?",
                                     "And what is the weather like there today?",
                                     "How is the weather in {city} today?"))
                 .format(city=row.capital)),
            *_weather_turns(row.capital, "today", space),
        )))
    return out


def _calculator_conversations(rng: random.Random, count: int,
                              space: str) -> list[Conversation]:
    from engine.tools.calculator import calculator

    out = []
    for _ in range(count):
        symbol = rng.choice(tuple(OPERATORS))
        if symbol == "÷":  # whole answers, as in the talk's "$9 ÷ 3 = $3"
            b = rng.randint(2, 25)
            a = b * rng.randint(2, 60)
        elif symbol == "×":
            a, b = rng.randint(2, 99), rng.randint(2, 99)
        else:
            a, b = rng.randint(10, 9999), rng.randint(10, 999)
        expression = f"{a} {OPERATORS[symbol]} {b}"
        result = calculator(expression)
        question = rng.choice(ARITHMETIC_PHRASINGS).format(a=a, op=symbol, b=b)
        out.append(Conversation("calculator", (
            Turn("user", question),
            Turn("tool_call", calculator_call(expression, space)),
            Turn("tool_result", result),
            Turn("assistant", f"{a} {symbol} {b} = {result}."),
        )))
    return out


def _search_conversations(rng: random.Random, count: int, space: str) -> list[Conversation]:
    out = []
    for row in rng.sample(trained_capitals(), count):
        passage = rng.choice(SEARCH_PASSAGES).format(
            country=row.country, capital=row.capital, continent=row.continent)
        out.append(Conversation("search", (
            Turn("user", rng.choice(SEARCH_PHRASINGS).format(country=row.country)),
            Turn("tool_call", search_call(f"capital of {row.country}", space)),
            Turn("tool_result", passage),
            Turn("assistant", row.sentence),
        )))
    toast_passage = ("A good wedding toast should be personal, brief, and kind. It can include a "
                     "small story, a thank-you, and a clear wish for the couple.")
    out.append(Conversation("search", (
        Turn("user", "Search the web for advice on giving a wedding toast."),
        Turn("tool_call", search_call("wedding toast advice", space)),
        Turn("tool_result", toast_passage),
        Turn("assistant", TOAST_ANSWER),
    )))
    return out


@dataclass(frozen=True)
class ConversationsConfig:
    seed: int = SEED
    capital_phrasings: int = 4  # phrasings per trained country (unseen ones should still work)
    weather_phrasings: int = 3  # "today" questions per trained capital
    followups: int = 40
    calculator: int = 200
    search: int = 40
    # what starts each value in a tool call; "" is the first format, which the tokenizer's
    # vocabulary was built from (vocabulary_texts)
    call_space: str = VALUE_SPACE


@lru_cache(maxsize=4)
def _build_classic(config: ConversationsConfig) -> tuple[Conversation, ...]:
    rng = random.Random(config.seed)
    trained = trained_capitals()
    out = _handwritten()
    out += _capital_conversations(rng, trained, config.capital_phrasings)
    space = config.call_space
    out += _weather_conversations(rng, trained, config.weather_phrasings, space)
    out += _followups(rng, config.followups, space)
    out += _calculator_conversations(rng, config.calculator, space)
    out += _search_conversations(rng, config.search, space)
    return tuple(out)


def vocabulary_texts() -> list[str]:
    """The conversation texts the tokenizer's vocabulary is built from (with the dataset).

    These are the first conversation set the tour had (about 130 trained cities, their
    simulated readings, a few hundred sums). The vocabulary stays as it was built from them,
    so the shipped base model keeps fitting the tokenizer that `llm-tour prepare` builds;
    the names and numbers of the copying conversations are drawn from pools far larger than
    any vocabulary and are meant to be read in pieces, down to the byte fallback."""
    return [c.text for c in _build_classic(ConversationsConfig(call_space=""))]


def _handwritten_typed() -> list[Conversation]:
    """The hand-written examples again, typed the way a room types them."""
    out = []
    for conversation in _handwritten():
        question = conversation.turns[0].text
        for variant in {question.lower(), question.rstrip("?.!").lower(), question.rstrip("?.!")}:
            if variant != question:
                out.append(Conversation("handwritten", (Turn("user", variant),
                                                        *conversation.turns[1:])))
    return out


@lru_cache(maxsize=4)
def _build(config: ConversationsConfig, copying: CopyingConfig) -> tuple[Conversation, ...]:
    rng = random.Random(config.seed)
    out = _handwritten() + _handwritten_typed()
    by_hand = {c.turns[0].text for c in out}
    out += _capital_conversations(rng, trained_capitals(), config.capital_phrasings)
    out.append(Conversation("weather", PARIS))
    # a greeting may be both hand-written and generated: the hand-written answer is the one
    out += [Conversation(kind, turns) for kind, turns in copying_conversations(copying)
            if turns[0].text not in by_hand]
    seen: set[tuple[Turn, ...]] = set()
    unique = []
    for conversation in out:
        if conversation.turns not in seen:
            seen.add(conversation.turns)
            unique.append(conversation)
    return tuple(unique)


def load_conversations(config: ConversationsConfig | None = None,
                       copying: CopyingConfig | None = None) -> list[Conversation]:
    """Every training conversation, in a fixed order: the hand-written ones (also typed
    the way people type), the capital questions, and the copying conversations
    (:mod:`engine.chat.copying`), every one unique."""
    return list(_build(config or ConversationsConfig(), copying or CopyingConfig()))


DATA_SETS = ("copying", "classic")


def training_set(name: str = "copying") -> list[Conversation]:
    """The conversations a fine-tune trains on: ``copying`` (:func:`load_conversations`, the
    default) or ``classic``, the first set (:func:`vocabulary_texts`), kept to compare with."""
    if name == "copying":
        return load_conversations()
    if name == "classic":
        return list(_build_classic(ConversationsConfig()))
    raise ValueError(f"unknown conversation set {name!r}; choose one of {', '.join(DATA_SETS)}")


# How many times each hand-written conversation is drawn for every time a generated one is:
# forty of them among fourteen thousand would be seen a few times in a whole fine-tune, and
# the talk's own prompts (the toast, the apples, a greeting) would get a generated answer.
HANDWRITTEN_WEIGHT = 25


def training_mix(conversations: list[Conversation],
                 weight: int = HANDWRITTEN_WEIGHT) -> list[Conversation]:
    """The pool a fine-tune draws from: every conversation once, the hand-written ones
    ``weight`` times."""
    extra = [c for c in conversations if c.kind == "handwritten"] * (weight - 1)
    return conversations + extra


@lru_cache(maxsize=1)
def _build_held_out() -> tuple[Conversation, ...]:
    """Capital questions and weather turns about the held-out countries, in the format of
    the training set (readings at random, like every weather conversation)."""
    rng = random.Random(SEED + 1)
    rows = held_out_capitals()
    out = _capital_conversations(rng, rows, 1)
    for row in rows:
        question = rng.choice(WEATHER_PHRASINGS["today"]).format(city=row.capital)
        out.append(Conversation("weather", (Turn("user", question),
                                            *weather_turns(rng, row.capital))))
    return tuple(out)


def held_out_conversations() -> list[Conversation]:
    """Capital and weather conversations about the held-out countries, never trained on:
    the validation loss of fine-tuning, and examples to test the format on."""
    return list(_build_held_out())


def all_texts(config: ConversationsConfig | None = None) -> list[str]:
    """The plain text of every training conversation (user and assistant turns, tool calls
    and results)."""
    return [conversation.text for conversation in load_conversations(config)]


def examples() -> list[Conversation]:
    """A few conversations to show, one of each kind, the talk's own first."""
    everything = load_conversations()
    shown: list[Conversation] = []
    for kind in ("weather", "handwritten", "capital", "calculator", "search", "smalltalk",
                 "followup"):
        pool = [c for c in everything if c.kind == kind]
        if kind == "weather":
            pool = [c for c in pool if "Paris" in c.turns[0].text] or pool
        if pool:
            shown.append(pool[0])
    apples = next(c for c in everything if c.turns[-1].text == APPLES_ANSWER)
    shown.insert(2, apples)
    return shown
