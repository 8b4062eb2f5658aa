"""Conversations that can only be learned by copying.

A tiny model fine-tuned on a thousand conversations about 130 cities learns those cities:
asked about one it never saw, it calls the weather tool for one it did. Here every name,
number and tool result is drawn at random from pools far larger than the model can store
(:mod:`engine.chat.pools`), so the only way to get a turn right is to copy: the city from
the question into the call, the expression into the calculator, the reading from the tool
result into the reply. Readings are random (any reading the simulated service could give),
so a reply cannot be remembered either.

Small talk, thanks, goodbyes and questions the tools cannot help with get a short reply and
no tool. User text is typed the way people type: lower case, no final punctuation, extra
spaces. Every conversation is unique, and no name or expression kept for evaluation
(:func:`engine.chat.pools.is_eval_name`, :func:`engine.chat.pools.is_eval_expression`) is
ever drawn.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from engine.chat.format import Turn, call_text
from engine.chat.pools import (
    invented_name,
    is_eval_expression,
    real_places,
    training_place,
)

CAPABILITIES = ("I can look up the weather, do arithmetic, search the pages I was trained on, "
                "and I know the capitals.")

WEATHER_QUESTIONS = (
    "What's the weather in {city} today?",
    "What is the weather like in {city} today?",
    "What is the weather in {city}?",
    "How is the weather in {city} right now?",
    "How's the weather in {city}?",
    "Is it raining in {city} today?",
    "Is it cold in {city}?",
    "Is it hot in {city} today?",
    "Weather in {city} today?",
    "weather in {city}",
    "{city} weather",
    "I'm going out in {city}. What's the weather today?",
    "Do I need an umbrella in {city} today?",
    "How warm is it in {city} today?",
    "Tell me today's weather in {city}.",
    "what's the weather like in {city} right now",
    "Can you check the weather in {city}?",
    "Any idea what the weather is in {city} today?",
)
TOMORROW_QUESTIONS = (
    "What will the weather be in {city} tomorrow?",
    "What's the forecast for {city} tomorrow?",
    "Will it rain in {city} tomorrow?",
    "weather in {city} tomorrow",
)
SKIES = ("clear", "sunny", "partly cloudy", "cloudy", "overcast", "light rain", "rain",
         "windy", "foggy", "thunderstorms", "light snow", "snow", "freezing fog")

CALCULATOR_QUESTIONS = (
    "What is {expr}?",
    "What's {expr}?",
    "what is {expr}",
    "Calculate {expr}.",
    "calculate {expr}",
    "How much is {expr}?",
    "{expr} = ?",
    "{expr}",
    "{expr}?",
    "Can you work out {expr}?",
    "Please compute {expr}.",
    "what does {expr} come to",
    "Quick maths: {expr}",
)

SEARCH_QUESTIONS = (
    "Search the pages for {topic}.",
    "search for {topic}",
    "Search for {topic}.",
    "Look up {topic}.",
    "look up {topic}",
    "look up {topic} in the pages",
    "What do the pages say about {topic}?",
    "what do your pages say about {topic}",
    "Find a page about {topic}.",
    "find something about {topic}",
    "Find something on {topic}.",
    "Search your pages for {topic}.",
    "search the dataset for {topic}",
    "Can you search for {topic}?",
    "Is there a page about {topic}?",
    "anything about {topic} in your pages?",
)
# What a search may be about. Topics are drawn from a pool far larger than the model can
# store (things, things with a word in front, "how ... work", "making ...", the pages' own
# words), so the query has to be copied from the question. No topic shares a word with the
# evaluation's search questions (engine.chat.pools.is_eval_topic).
SEARCH_THINGS = (
    "volcanoes", "rivers", "mountains", "deserts", "islands", "the moon", "the sun", "rainbows",
    "clouds", "magnets", "electricity", "gravity", "light", "the ocean", "tides", "forests",
    "birds", "bees", "whales", "dinosaurs", "trees", "flowers", "coffee", "tea", "cheese",
    "chocolate", "rice", "noodles", "omelettes", "pizza", "sandwiches", "cookies", "jam",
    "bicycles", "cars", "ships", "airplanes", "bridges", "castles", "museums", "libraries",
    "maps", "postcards", "stamps", "birthdays", "picnics", "gardens", "camping", "hiking",
    "football", "chess", "painting", "poetry", "history", "rain boots", "umbrellas",
    "city walks", "old markets", "lighthouses", "harbours", "glaciers", "earthquakes",
    "thunder", "snowflakes", "seasons", "calendars", "clocks", "telescopes", "owls", "foxes",
    "wolves", "frogs", "spiders", "sharks", "penguins", "elephants", "horses", "tomatoes",
    "potatoes", "carrots", "lemons", "mushrooms", "honey", "butter", "dumplings", "curry",
    "pasta", "muffins", "waffles", "lanterns", "kites", "boats", "trams", "buses", "canals",
    "tunnels", "towers", "temples", "caves", "waterfalls", "lakes", "meadows", "storms", "fog",
    "ice", "stars", "planets", "comets", "batteries", "engines", "robots", "computers",
    "radios", "cameras", "pianos", "guitars", "drums", "songs", "dances", "festivals",
    "markets", "farms", "schools", "hospitals", "knitting", "gardening", "fishing", "sailing",
    "swimming", "running", "cycling", "photography", "pottery", "origami", "puzzles",
    "riddles", "letters", "diaries", "coins", "shells", "pebbles", "feathers", "candles",
    "blankets", "teapots", "bottles", "ladders", "fences", "roofs", "windows", "doors",
    "chairs", "tables", "lamps", "mirrors", "keys", "locks", "wallets", "backpacks", "tents",
    "maple syrup", "olive oil", "sea salt", "paper planes", "hot springs", "sand dunes",
    "coral reefs", "tree frogs", "city parks", "street names", "bus stops", "time zones",
)
SEARCH_WORDS_BEFORE = ("old", "new", "small", "big", "quick", "easy", "cheap", "famous", "local",
                       "winter", "summer", "spring", "autumn", "night", "early", "wild", "red",
                       "blue", "yellow", "homemade", "ancient", "modern", "tiny", "strange",
                       "quiet", "busy", "northern", "southern", "coastal", "mountain")
SEARCH_VERBS = ("work", "form", "grow", "move", "change", "begin", "last", "fall", "shine",
                "float", "break", "sleep", "hide", "spread")
SEARCH_DOINGS = ("making", "fixing", "growing", "cooking", "drawing", "cleaning", "choosing",
                 "building", "painting", "storing", "finding", "counting", "measuring",
                 "collecting", "sorting", "carrying", "planting", "naming")
SEARCH_SHAPES = ("{thing}", "{thing}", "{before} {thing}", "how {thing} {verb}",
                 "{doing} {thing}", "the history of {thing}", "{thing} for beginners",
                 "{thing} and {thing2}", "facts about {thing}", "{before} {thing} in {place}",
                 "{thing} in {place}", "tips for {doing} {thing}", "why {thing} {verb}")
SEARCH_RESULTS = (
    "{Topic} are on a few pages, with short notes.",
    "A page about {topic} says they are worth a look.",
    "{Topic}: one page names them in a short note.",
    "No page is mainly about {topic}.",
    "A short page is about {topic}, in plain words.",
    "One page mentions {topic} in passing.",
    "Nothing in the pages is about {topic}.",
)


GREETINGS = (
    ("hi", "Hi! " + CAPABILITIES),
    ("hello", "Hello! " + CAPABILITIES),
    ("hey", "Hey! " + CAPABILITIES),
    ("hi there", "Hi there! " + CAPABILITIES),
    ("hello there", "Hello! " + CAPABILITIES),
    ("hey, how's it going", "Going well, thanks! " + CAPABILITIES),
    ("good evening", "Good evening! " + CAPABILITIES),
    ("good afternoon", "Good afternoon! " + CAPABILITIES),
    ("how are you", "I'm well, thank you! " + CAPABILITIES),
    ("how are you doing today", "I'm well, thank you! " + CAPABILITIES),
    ("what's up", "Not much! " + CAPABILITIES),
    ("yo", "Hi! " + CAPABILITIES),
    ("hiya", "Hi! " + CAPABILITIES),
    ("greetings", "Hello! " + CAPABILITIES),
    ("thanks", "You're welcome!"),
    ("thank you", "You're welcome!"),
    ("thanks a lot", "You're welcome!"),
    ("cheers", "You're welcome!"),
    ("great, thanks", "Glad to help!"),
    ("that was helpful", "Glad to help!"),
    ("perfect", "Glad to help!"),
    ("ok", "Anything else? " + CAPABILITIES),
    ("okay cool", "Anything else? " + CAPABILITIES),
    ("bye", "Goodbye!"),
    ("goodbye", "Goodbye!"),
    ("see you", "See you!"),
    ("good night", "Good night!"),
    ("that's all", "Goodbye!"),
    ("what can you do", CAPABILITIES),
    ("what are you able to do", CAPABILITIES),
    ("help", CAPABILITIES),
    ("what do you know", CAPABILITIES),
    ("who are you", "I am a small language model. " + CAPABILITIES),
    ("what are you", "I am a small language model. " + CAPABILITIES),
    ("who made you", "I was trained in this tour, on a sample of web pages and then on "
                     "conversations. " + CAPABILITIES),
)
OFF_TOPIC_TEMPLATES = (
    "what's your favourite {thing}",
    "do you like {thing}",
    "can you {verb}",
    "write me a poem about {thing}",
    "tell me a story about {thing}",
    "what do you think about {thing}",
    "should I buy {thing}",
    "are you {adjective}",
    "I feel {adjective}",
    "recommend me some {thing}",
)
OFF_TOPIC_THINGS = ("food", "films", "books", "animal", "sport", "games", "shoes", "cats",
                    "dogs", "dancing", "painting", "the future", "robots", "space", "friends",
                    "holidays", "summer", "winter", "my job", "phones", "cake", "flowers")
OFF_TOPIC_VERBS = ("dance", "cook", "drive", "draw", "swim", "dream", "laugh", "whistle", "fly",
                   "read my mind", "feel things", "keep a secret")
OFF_TOPIC_ADJECTIVES = ("happy", "tired", "smart", "alive", "real", "human", "sad", "lonely",
                        "hungry", "curious")
OFF_TOPIC_REPLY = "I can't help with that. " + CAPABILITIES


# A conversation must fit the default model's window of 128 tokens; names read in byte
# pieces take many tokens, so long ones are left out.
MAX_CHARS = 260


@dataclass(frozen=True)
class CopyingConfig:
    seed: int = 4242
    weather: int = 6000
    calculator: int = 5000
    search: int = 8000
    small_talk: int = 1500
    followups: int = 400


def typed(rng: random.Random, text: str) -> str:
    """``text`` the way people type it: sometimes lower case, without the final
    punctuation, with a doubled space. Names inside keep their case unless the whole line
    is lowered (then the call still copies the name as the user wrote it)."""
    out = text
    if rng.random() < 0.3:
        out = out.rstrip("?.!").rstrip(" =") or out
    if rng.random() < 0.1:
        words = out.split(" ")
        if len(words) > 2:
            i = rng.randrange(1, len(words))
            words[i] = " " + words[i]
            out = " ".join(words)
    return out.strip()


def _lower_start(rng: random.Random, text: str) -> str:
    return text[:1].lower() + text[1:] if rng.random() < 0.35 else text


def weather_call(city: str, day: str = "today") -> str:
    """``weather({ city: " Paris" })``, with ``day`` only when it is not today."""
    if day == "today":
        return call_text("weather", city=city)
    return call_text("weather", city=city, day=day)


def weather_reply(city: str, reading: str, day: str = "today") -> str:
    """The reply repeats the tool's reading as it came: "The weather in Paris today is
    72°F and clear."."""
    if day == "tomorrow":
        return f"The weather in {city} tomorrow will be {reading}."
    return f"The weather in {city} today is {reading}."


def random_reading(rng: random.Random) -> str:
    temperature = rng.randint(-5, 105)
    sky = rng.choice(SKIES[:10] if temperature > 36 else SKIES)
    return f"{temperature}°F and {sky}"


def weather_turns(rng: random.Random, city: str, day: str = "today") -> list[Turn]:
    reading = random_reading(rng)
    return [Turn("tool_call", weather_call(city, day)), Turn("tool_result", reading),
            Turn("assistant", weather_reply(city, reading, day))]


def _weather(rng: random.Random) -> tuple[Turn, ...]:
    city = training_place(rng)
    if rng.random() < 0.12:
        question, day = rng.choice(TOMORROW_QUESTIONS), "tomorrow"
    else:
        question, day = rng.choice(WEATHER_QUESTIONS), "today"
    text = typed(rng, _lower_start(rng, question).format(city=city))
    return (Turn("user", text), *weather_turns(rng, city, day))


def random_expression(rng: random.Random) -> tuple[str, str]:
    """(as a person types it, as the calculator is given it): two- and three-digit
    numbers, + - × ÷ (also typed * / x), sometimes with a bracketed pair."""
    def number() -> int:
        return rng.randint(10, 99) if rng.random() < 0.55 else rng.randint(100, 999)

    symbol = rng.choice("+-×÷")
    if symbol == "÷":  # whole answers, as in the talk's "$9 ÷ 3 = $3"
        b = rng.randint(2, 40)
        a = b * rng.randint(2, 50)
    elif symbol == "×":
        a, b = number(), rng.randint(2, 99)
    else:
        a, b = number(), number()
    if rng.random() < 0.5:
        a, b = (b, a) if symbol in "+×" else (a, b)
    spellings = {"+": ("+",), "-": ("-",), "×": ("×", "*", "x"), "÷": ("÷", "/")}
    given_op = {"+": "+", "-": "-", "×": "*", "÷": "/"}
    typed_op = rng.choice(spellings[symbol])
    typed_text, given = f"{a} {typed_op} {b}", f"{a} {given_op[symbol]} {b}"
    if rng.random() < 0.3:
        c = rng.randint(2, 99)
        outer = rng.choice("+-×")
        outer_typed = rng.choice(spellings[outer])
        if rng.random() < 0.5:
            typed_text, given = (f"({typed_text}) {outer_typed} {c}",
                                 f"({given}) {given_op[outer]} {c}")
        else:
            typed_text, given = (f"{c} {outer_typed} ({typed_text})",
                                 f"{c} {given_op[outer]} ({given})")
    if rng.random() < 0.15:
        typed_text = typed_text.replace(" ", "")
    return typed_text, given


def _calculator(rng: random.Random) -> tuple[Turn, ...] | None:
    from engine.tools.calculator import calculator

    typed_text, given = random_expression(rng)
    if is_eval_expression(given):
        return None
    result = calculator(given)
    question = typed(rng, rng.choice(CALCULATOR_QUESTIONS).format(expr=typed_text))
    shown = given.replace("*", "×").replace("/", "÷")
    return (Turn("user", question), Turn("tool_call", call_text("calculator", expression=given)),
            Turn("tool_result", result), Turn("assistant", f"{shown} = {result}."))


def search_topic(rng: random.Random) -> str:
    """A made-up search topic: "volcanoes", "how kites float", "cleaning teapots in Oslo"."""
    from engine.chat.pools import is_eval_topic

    while True:
        things = rng.sample(SEARCH_THINGS, 2)
        topic = rng.choice(SEARCH_SHAPES).format(
            thing=things[0], thing2=things[1], before=rng.choice(SEARCH_WORDS_BEFORE),
            verb=rng.choice(SEARCH_VERBS), doing=rng.choice(SEARCH_DOINGS),
            place=training_place(rng))
        if not is_eval_topic(topic):
            return topic


def _search(rng: random.Random) -> tuple[Turn, ...]:
    from engine.chat.pools import page_snippets, page_words

    roll = rng.random()
    if roll < 0.35:  # a topic from the pages: the result is their sentence
        topic, result = rng.choice(page_snippets())
    else:
        if roll < 0.65:  # any of the pages' words, one to three
            topic = " ".join(rng.sample(page_words(), rng.choice((1, 1, 2, 2, 3))))
        elif roll < 0.7:
            topic = training_place(rng)
        else:
            topic = search_topic(rng)
        result = rng.choice(SEARCH_RESULTS).format(topic=topic,
                                                    Topic=topic[:1].upper() + topic[1:])
    question = typed(rng, _lower_start(rng, rng.choice(SEARCH_QUESTIONS)).format(topic=topic))
    return (Turn("user", question), Turn("tool_call", call_text("search", query=topic)),
            Turn("tool_result", result), Turn("assistant", f"The pages say: {result}"))


def _small_talk(rng: random.Random) -> tuple[Turn, ...]:
    if rng.random() < 0.55:
        text, answer = rng.choice(GREETINGS)
        if rng.random() < 0.5:
            text = text[:1].upper() + text[1:]
        text += rng.choice(("", "", "!", "?", ".", "!!"))
    else:
        template = rng.choice(OFF_TOPIC_TEMPLATES)
        text = template.format(thing=rng.choice(OFF_TOPIC_THINGS),
                               verb=rng.choice(OFF_TOPIC_VERBS),
                               adjective=rng.choice(OFF_TOPIC_ADJECTIVES))
        if rng.random() < 0.5:
            text = text[:1].upper() + text[1:] + "?"
        answer = OFF_TOPIC_REPLY
    if rng.random() < 0.1:
        text = text + rng.choice((" ", "  "))
    return (Turn("user", text.strip()), Turn("assistant", answer))


def _followup(rng: random.Random) -> tuple[Turn, ...]:
    """A capital, then the weather there (the reading is random like every other)."""
    from engine.chat.conversations import CAPITAL_PHRASINGS, trained_capitals

    row = rng.choice(trained_capitals())
    follow = rng.choice(("What's the weather there today?", "And the weather there?",
                         "How is the weather in {city} today?", "weather there today"))
    return (Turn("user", rng.choice(CAPITAL_PHRASINGS).format(country=row.country)),
            Turn("assistant", row.sentence),
            Turn("user", follow.format(city=row.capital)),
            *weather_turns(rng, row.capital))


def copying_conversations(config: CopyingConfig | None = None) -> list[tuple[str, tuple[Turn, ...]]]:
    """(kind, turns) for every copying conversation, unique, in a fixed order."""
    config = config or CopyingConfig()
    rng = random.Random(config.seed)
    seen: set[tuple[Turn, ...]] = set()
    out: list[tuple[str, tuple[Turn, ...]]] = []
    makers = (("weather", _weather, config.weather), ("calculator", _calculator, config.calculator),
              ("search", _search, config.search), ("smalltalk", _small_talk, config.small_talk),
              ("followup", _followup, config.followups))
    for kind, make, count in makers:
        made, tries = 0, 0
        while made < count and tries < count * 50:
            tries += 1
            turns = make(rng)
            if turns is None or turns in seen or sum(len(t.text) for t in turns) > MAX_CHARS:
                continue
            seen.add(turns)
            out.append((kind, turns))
            made += 1
    return out


# Keep the talk's weather example as it is asked on screen.
PARIS = (Turn("user", "What's the weather in Paris today?"),
         Turn("tool_call", weather_call("Paris")), Turn("tool_result", "72°F and clear"),
         Turn("assistant", weather_reply("Paris", "72°F and clear")))

__all__ = ["CAPABILITIES", "CopyingConfig", "PARIS", "copying_conversations", "invented_name",
           "real_places", "weather_reply"]
