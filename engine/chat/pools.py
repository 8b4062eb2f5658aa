"""The names and numbers conversations are built from, split once into training and evaluation.

A model this small memorises a few thousand conversations easily. To make it learn to copy a
name from the question into the tool call (and a reading from the tool result into the reply),
the names must come from a pool far larger than it can store: real place names
(``places.txt``, from the time-zone database plus a list of well-known cities) and invented
ones built from syllables, in many spellings (hyphens, apostrophes, accents, two words), so
that names split into many different token patterns, down to the compact vocabulary's byte
fallback.

The split between training and evaluation is a rule, not a list: a name or an expression is
kept for evaluation when a hash of it falls in a small bucket (and the capitals of the
held-out countries always are). Training generators skip every such name and expression;
the evaluation draws only from them. So no evaluation item can appear in training, however
many conversations are generated, and a test can check it for any name.
"""

from __future__ import annotations

import hashlib
import random
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.tokenizer.protocol import Tokenizer

PLACES_FILE = Path(__file__).with_name("places.txt")
# The dataset shipped with the package (what `llm-tour prepare` builds from the sample web):
# training searches find its sentences, whichever dataset a workspace has.
PAGES_FILE = Path(__file__).parent.parent / "bundled" / "dataset.parquet"
EVAL_SHARE = 0.08  # of all names and expressions, chosen by hash: evaluation only

_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "gr", "h", "j", "k", "kh", "kr", "l", "m",
           "n", "ny", "p", "qu", "r", "s", "sh", "st", "t", "th", "tr", "v", "w", "y", "z",
           "zh", "")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ei", "ou", "ia", "y", "aa", "é", "ö", "ø", "å",
           "á", "ü")
_CODAS = ("", "", "", "n", "r", "l", "s", "k", "m", "th", "sk", "nd", "rt", "x", "ng")
_PLAIN_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou", "ia")


def _key(text: str) -> str:
    from engine.tools.weather import normalise_city

    return normalise_city(text)


def _bucket(kind: str, text: str) -> float:
    digest = hashlib.sha256(f"{kind}|{text}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


@lru_cache(maxsize=1)
def _country_names() -> tuple[frozenset[str], frozenset[str]]:
    """(held-out, trained) country and capital names."""
    from engine.chat.conversations import held_out_capitals, trained_capitals

    def names(rows: list) -> frozenset[str]:
        return frozenset(_key(n) for row in rows for n in (row.country, row.capital))

    return names(held_out_capitals()), names(trained_capitals())


def is_eval_name(name: str) -> bool:
    """Whether a place name is kept for evaluation (never in a training conversation):
    the held-out countries and their capitals, and names in the evaluation bucket, but
    never a country or capital the capital questions train on."""
    key = _key(name)
    held_out, trained = _country_names()
    if key in held_out:
        return True
    return key not in trained and _bucket("name", key) < EVAL_SHARE


def normalise_expression(expression: str) -> str:
    """An expression with its whitespace removed: "17*23" and "17 * 23" are one expression."""
    return "".join(expression.split())


def is_eval_expression(expression: str) -> bool:
    """Whether an arithmetic expression is kept for evaluation."""
    return _bucket("expression", normalise_expression(expression)) < EVAL_SHARE


@lru_cache(maxsize=1)
def real_places() -> tuple[str, ...]:
    """Real place names, one a line in ``places.txt``."""
    lines = PLACES_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip())


def invented_name(rng: random.Random) -> str:
    """A made-up place name, in one of several shapes: "Vorlask", "Quen-Dari", "Ost Mel",
    "Tz'ilu", "Brøndhaven"."""
    def word(syllables: int, plain: bool = False) -> str:
        vowels = _PLAIN_VOWELS if plain else _VOWELS
        return "".join(rng.choice(_ONSETS) + rng.choice(vowels) + rng.choice(_CODAS)
                       for _ in range(syllables))

    shape = rng.random()
    if shape < 0.45:
        name = word(rng.randint(2, 3), plain=rng.random() < 0.6)
    elif shape < 0.6:
        name = f"{word(rng.randint(1, 2), True)}-{word(rng.randint(1, 2), True).capitalize()}"
    elif shape < 0.75:
        name = f"{word(rng.randint(1, 2))} {word(rng.randint(1, 2)).capitalize()}"
    elif shape < 0.85:
        name = f"{word(1, True)}'{word(rng.randint(1, 2), True)}"
    elif shape < 0.93:
        name = word(rng.randint(1, 2)) + rng.choice(("ville", "burg", "haven", "stad", "pur",
                                                     "abad", "grad", "polis", "ton", "holm"))
    else:
        name = f"{rng.choice(('Port', 'San', 'New', 'Lake', 'Upper', 'Fort'))} " \
               f"{word(rng.randint(1, 2), True).capitalize()}"
    name = name.strip(" -'")
    return (name[:1].upper() + name[1:]) if len(name) >= 3 else "Ulo" + name


_LINKS = ("of", "de", "del", "la", "on", "upon", "am", "an", "sur", "el")
_ARTICLES = ("La", "El", "Le", "Los", "Las", "Al", "San", "Santa", "St.", "Port", "Isla")


def joined_name(rng: random.Random) -> str:
    """A made-up place name of several words with short ones among them, the shapes of
    "La Paz", "Port of Spain", "Rio de Janeiro" and "Andorra la Vella": a copy must keep
    every word, the short ones too, and their letters often fall back to single bytes."""
    def word() -> str:
        syllables = rng.choice((1, 1, 2))
        text = "".join(rng.choice(_ONSETS) + rng.choice(_PLAIN_VOWELS) + rng.choice(_CODAS)
                       for _ in range(syllables))
        return (text if len(text) >= 2 else text + "a").capitalize()

    shape = rng.random()
    if shape < 0.35:
        return f"{rng.choice(_ARTICLES)} {word()}"
    if shape < 0.75:
        return f"{word()} {rng.choice(_LINKS)} {word()}"
    if shape < 0.9:
        return f"{rng.choice(_ARTICLES)} {word()} {rng.choice(_LINKS)} {word()}"
    return f"{word()}-{rng.choice(_LINKS)}-{word()}"


def training_place(rng: random.Random) -> str:
    """A place name for a training conversation: real (not a trained country's capital,
    which the capital questions already cover) or invented (one word or several), never an
    evaluation name."""
    while True:
        roll = rng.random()
        if roll < 0.45:
            name = rng.choice(real_places())
        elif roll < 0.88:
            name = invented_name(rng)
        else:
            name = joined_name(rng)
        if not is_eval_name(name) and len(name) <= 24:
            return name


EVAL_SEED = 20260528
EVAL_CITIES = 40  # the weather questions' places, asked by the evaluation


@lru_cache(maxsize=4)
def eval_places(count: int) -> tuple[str, ...]:
    """``count`` evaluation place names: every held-out capital first, then real and
    invented names from the evaluation bucket, in a fixed order."""
    from engine.chat.conversations import held_out_cities

    rng = random.Random(EVAL_SEED)
    out: list[str] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        if _key(name) not in seen and is_eval_name(name) and len(name) <= 24:
            seen.add(_key(name))
            out.append(name)

    capitals = list(held_out_cities())
    rng.shuffle(capitals)
    real = [p for p in real_places() if is_eval_name(p)]
    rng.shuffle(real)
    # a third each: held-out capitals, other real places, invented names
    third = max(1, count // 3)
    for name in capitals[:third]:
        add(name)
    for name in real[:third]:
        add(name)
    while len(out) < count:
        add(invented_name(rng))
    return tuple(out[:count])


def _word_forms(word: str) -> set[str]:
    """A word and its plain plural or singular ("speech", "speeches"; "toast", "toasts")."""
    forms = {word, word + "s", word + "es"}
    if word.endswith("es"):
        forms.add(word[:-2])
    if word.endswith("s"):
        forms.add(word[:-1])
    return forms


@lru_cache(maxsize=1)
def _eval_search_words() -> frozenset[str]:
    from engine.chat.eval import SEARCH_QUESTIONS, content_words

    return frozenset(form for question in SEARCH_QUESTIONS for word in content_words(question)
                     for form in _word_forms(word))


def is_eval_topic(text: str) -> bool:
    """Whether a search topic (or a sentence) shares a word, or its plural or singular, with
    the evaluation's search questions: no training search is about what the evaluation asks."""
    words = re.findall(r"[a-z0-9']+", text.casefold())
    return any(w in _eval_search_words() for w in words)


_SNIPPET_STOPWORDS = frozenset((
    "about", "after", "capital", "capitals", "city", "country", "countries", "again", "also",
    "always", "because", "been", "before", "being", "could", "every", "from", "have", "here",
    "into", "just", "like", "more", "most", "much", "never", "only", "other", "over", "same",
    "should", "some", "such", "than", "that", "their", "them", "then", "there", "these",
    "they", "this", "those", "through", "today", "very", "what", "when", "where", "which",
    "while", "will", "with", "would", "your"))


@lru_cache(maxsize=1)
def _page_contents() -> tuple[str, ...]:
    """The text of every page of the bundled dataset."""
    import pyarrow.parquet as pq

    return tuple(pq.read_table(PAGES_FILE, columns=["content"]).column("content").to_pylist())


@lru_cache(maxsize=1)
def page_words() -> tuple[str, ...]:
    """Every plain word of the bundled pages (three letters or more, not a place), except
    those of the evaluation's searches: a search may be about any of them, so the model
    learns to copy a word it has read, not to pick one from a short list."""
    words: set[str] = set()
    for content in _page_contents():
        words.update(re.findall(r"(?<![\w'’-])[a-z]{3,}(?![\w'’-])", content))
    return tuple(sorted(w for w in words if w not in _SNIPPET_STOPWORDS and not is_eval_topic(w)))


@lru_cache(maxsize=1)
def page_snippets() -> tuple[tuple[str, str], ...]:
    """(topic, sentence) pairs from the bundled dataset's pages, as a search finds them: a
    sentence of a page, and one or two of its words that a search for it would use. No
    sentence names an evaluation place or shares a word with the evaluation's searches."""
    from engine.chat.conversations import held_out_capitals

    rng = random.Random(EVAL_SEED + 7)
    out: dict[str, tuple[str, str]] = {}
    held = sorted({n for row in held_out_capitals() for n in (row.country, row.capital)},
                  key=len, reverse=True)
    held_out = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, held)) + r")(?![\w-])")
    for content in _page_contents():
        for line in content.split("\n"):
            for sentence in re.split(r"(?<=[.!?])\s+", line.strip()):
                if not 30 <= len(sentence) <= 110 or sentence in out or is_eval_topic(sentence):
                    continue
                names = re.findall(r"[A-Z][\w'’-]+(?: [A-Z][\w'’-]+)*", sentence)
                if held_out.search(sentence) or any(is_eval_name(n) for n in names):
                    continue
                words = re.findall(r"(?<![\w'’-])[a-z]+(?![\w'’-])", sentence)
                plain = [w for w in words if len(w) >= 4 and w not in _SNIPPET_STOPWORDS]
                # a name as written, or one or two plain words in a row
                topics = [n for n in names if len(n) >= 4 and not sentence.startswith(n)]
                for i, word in enumerate(plain):
                    topics.append(word)
                    pair = f"{word} {plain[i + 1]}" if i + 1 < len(plain) else ""
                    if pair and pair in sentence:
                        topics.append(pair)
                if topics:
                    out[sentence] = (rng.choice(topics), sentence)
    return tuple(out.values())


def drill_tokens(tokenizer: Tokenizer) -> list[int]:
    """The ordinary tokens a copy drill draws from: every one but those that are, on their
    own, a word of the evaluation's searches, places or held-out countries and capitals (so
    no drill copies a word the evaluation asks for)."""
    from engine.chat.conversations import held_out_capitals

    names = [*eval_places(EVAL_CITIES), *(n for row in held_out_capitals() for n in (row.country,
                                                                              row.capital))]
    held = set(_eval_search_words())
    held.update(w for name in names for w in re.findall(r"[\w'’-]+", name.casefold()))
    return [token for token in range(min(tokenizer.special.values()))
            if tokenizer.decode([token]).strip().casefold() not in held]
