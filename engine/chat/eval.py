"""One honest evaluation of the chat model: whole turns, exact matching, unseen names.

Every item is a question a room might type, about names and numbers that no training
conversation holds (:mod:`engine.chat.pools` keeps them apart by rule, and a test checks
it). Each item runs through the tool loop the app itself uses
(:func:`engine.tools.loop.run_turn`, greedy), and a turn is right only when all of it is:

- weather: a call to ``weather`` whose ``city`` is exactly the city asked (not a name that
  contains it), and a reply that repeats the tool's reading and names the city;
- calculator: a call to ``calculator`` whose expression is the one asked (whitespace aside),
  and a reply that states the true value;
- small talk and off-topic questions: no tool call, and a reply that ends its turn;
- dataset questions: a call to ``search`` whose query shares a content word with the
  question, and a reply;
- capitals (held-out countries, four phrasings): no tool call, and a reply that names the
  capital as a word;
- base: "The capital of {country} is" continued greedily as plain text starts with the
  capital (every country the sample web was written from).

The headline is the share of whole turns right; nothing partial counts.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from engine.chat.pools import (
    EVAL_CITIES,
    EVAL_SEED,
    eval_places,
    is_eval_expression,
    normalise_expression,
)
from engine.tokenizer.protocol import Tokenizer

CATEGORIES = ("weather", "calculator", "small talk", "search", "capitals", "base")
CHAT_CATEGORIES = CATEGORIES[:-1]

WEATHER_QUESTIONS = (
    "What's the weather in {city} today?",
    "what is the weather like in {city}",
    "How's the weather in {city} right now?",
    "weather in {city} today?",
    "Is it cold in {city} today?",
)
CALCULATOR_QUESTIONS = (
    "What is {expr}?",
    "what's {expr}",
    "Calculate {expr}.",
    "{expr} = ?",
    "can you work out {expr}",
)
SMALL_TALK = (
    "hi", "Hello!", "hey there", "good morning", "How are you?", "thanks!", "Thank you so much.",
    "bye", "Goodbye!", "see you later", "who are you?", "what can you do",
    "Tell me a joke.", "what's your favourite colour?", "I'm bored", "Do you like music?",
    "what is love", "Can you sing?", "nice to meet you", "Are you a robot?",
)
SEARCH_QUESTIONS = (
    "Search the pages for pancakes.",
    "search for green salad",
    "Look up how sound travels.",
    "What do the pages say about atoms?",
    "search the dataset for a retirement speech",
    "Find a page about travel by train.",
    "look up how plants make their food",
    "Search for soup recipes.",
    "What do your pages say about wedding toasts?",
    "search for earth science",
    "Find something about baking bread.",
    "search the pages for party speeches",
)
CAPITAL_QUESTIONS = (
    "What is the capital of {country}?",
    "what's the capital of {country}",
    "Capital of {country}?",
    "Which city is the capital of {country}?",
)
STOPWORDS = frozenset("""a an and are about at be can do does find for from how i in is it look
me my of on or page pages say search show so some something tell that the their them there
these this to up us what whats what's which who why with you your yours dataset web make""".split())


@dataclass(frozen=True)
class Item:
    """One question to ask, and what a right turn must contain."""

    category: str
    question: str
    city: str = ""  # weather: the city asked about
    expression: str = ""  # calculator: the expression asked, in the calculator's syntax
    value: str = ""  # calculator: the true value, as the calculator writes it
    capital: str = ""  # capitals and base: the capital of the country asked about
    country: str = ""


@dataclass(frozen=True)
class Call:
    """A tool call as the loop recognised it (``name`` None when it could not be read)."""

    name: str | None
    args: dict[str, Any] = field(default_factory=dict)
    result: str = ""  # what the tool returned into the context
    ok: bool = False


@dataclass(frozen=True)
class Transcript:
    """What happened in one turn: the calls, the final reply and why it stopped."""

    calls: tuple[Call, ...]
    answer: str
    stop: str = "end"


@dataclass(frozen=True)
class Scored:
    item: Item
    transcript: Transcript
    right: bool
    why: str  # "right", or what was wrong


# -- the items ---------------------------------------------------------------------------


def _expression(rng: random.Random) -> tuple[str, str]:
    """(what a person types, what the calculator is given): two- and three-digit numbers,
    + - × ÷, sometimes a bracketed pair."""
    def number() -> int:
        return rng.randint(10, 99) if rng.random() < 0.6 else rng.randint(100, 999)

    symbol = rng.choice("+-×÷")
    ops = {"+": "+", "-": "-", "×": "*", "÷": "/"}
    if symbol == "÷":
        b = rng.randint(2, 30)
        a = b * rng.randint(2, 40)
    elif symbol == "×":
        a, b = rng.randint(2, 99), rng.randint(2, 60)
    else:
        a, b = number(), number()
    typed, given = f"{a} {symbol} {b}", f"{a} {ops[symbol]} {b}"
    if rng.random() < 0.3:
        c = rng.randint(2, 9)
        outer = rng.choice("+-×")
        typed, given = f"({typed}) {outer} {c}", f"({given}) {ops[outer]} {c}"
    return typed, given


@lru_cache(maxsize=4)
def eval_items(per_category: int | None = None) -> tuple[Item, ...]:
    """Every item, in a fixed order (the first ``per_category`` of each with a limit)."""
    from engine.chat.conversations import held_out_capitals
    from engine.data.facts import load_capitals
    from engine.tools.calculator import calculator

    rng = random.Random(EVAL_SEED)
    limit = per_category
    items: list[Item] = []
    for i, city in enumerate(eval_places(EVAL_CITIES)[:limit]):
        items.append(Item("weather", WEATHER_QUESTIONS[i % len(WEATHER_QUESTIONS)]
                          .format(city=city), city=city))
    calculator_items: list[Item] = []
    seen: set[str] = set()
    while len(calculator_items) < (40 if limit is None else min(40, limit)):
        typed, given = _expression(rng)
        key = normalise_expression(given)
        if key in seen or not is_eval_expression(given):
            continue
        seen.add(key)
        question = CALCULATOR_QUESTIONS[len(calculator_items) % len(CALCULATOR_QUESTIONS)]
        calculator_items.append(Item("calculator", question.format(expr=typed),
                                     expression=given, value=calculator(given)))
    items += calculator_items
    items += [Item("small talk", text) for text in SMALL_TALK[:limit]]
    items += [Item("search", text) for text in SEARCH_QUESTIONS[:limit]]
    capital_items = [Item("capitals", q.format(country=row.country), capital=row.capital,
                          country=row.country)
                     for row in held_out_capitals() for q in CAPITAL_QUESTIONS]
    items += capital_items[:None if limit is None else limit * len(CAPITAL_QUESTIONS)]
    items += [Item("base", f"The capital of {row.country} is", capital=row.capital,
                   country=row.country) for row in load_capitals()[:limit]]
    return tuple(items)


# -- scoring, exactly ----------------------------------------------------------------------


def _word_in(word: str, text: str) -> bool:
    """``word`` appears in ``text`` as a whole word (not inside a longer one)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _number_in(value: str, text: str) -> bool:
    """``value`` appears in ``text`` as a whole number ("391" is not in "3910" or "39.1")."""
    return re.search(rf"(?<![\d.]){re.escape(value)}(?![\d]|\.\d)", text) is not None


def content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9']+", text.casefold())
    return {w.strip("'") for w in words if len(w) >= 3 and w not in STOPWORDS}


def miscopied(question: str, name: str, args: dict[str, Any],
              positional: tuple[Any, ...] = ()) -> str | None:
    """What a tool call got wrong against the question it answers, judged as ``score`` does
    but without knowing the right answer: a city the question does not name, numbers that
    are not the question's, a search sharing no word with it. None when none of these is
    wrong (or the tool is another). Shown beside the call, so a wrong copy is never passed
    over on screen."""
    def value(key: str) -> Any:
        found = args.get(key)
        return positional[0] if found is None and positional else found

    if name == "weather":
        city = value("city")
        if isinstance(city, str) and city.strip() and not _word_in(
                " ".join(city.split()).casefold(), " ".join(question.split()).casefold()):
            return f"the question does not name {city.strip()!r}: the model did not copy it"
    elif name == "calculator":
        expression = value("expression")
        numbers = re.compile(r"\d+(?:\.\d+)?")
        if isinstance(expression, str) and (sorted(numbers.findall(expression))
                                            != sorted(numbers.findall(question))):
            return "its numbers are not the question's: the model did not copy them"
    elif name == "search":
        query = value("query")
        if isinstance(query, str) and not content_words(query) & content_words(question):
            return "the query shares no word with the question"
    return None


def _arg(call: Call, name: str) -> Any:
    value = call.args.get(name)
    if value is None and call.args.get("_0") is not None:
        value = call.args["_0"]
    return value


def score(item: Item, transcript: Transcript) -> tuple[bool, str]:
    """Whether a turn is right for its item, and if not, the first thing that is wrong."""
    calls = transcript.calls
    answer = transcript.answer.strip()
    if item.category in ("small talk", "capitals"):
        if calls:
            return False, f"called {calls[0].name or 'a malformed tool'} instead of answering"
        if not answer:
            return False, "empty reply"
        if transcript.stop != "end":
            return False, f"reply did not end ({transcript.stop})"
        if item.category == "capitals" and not _word_in(item.capital, answer):
            return False, f"reply does not name {item.capital}"
        return True, "right"
    expected = {"weather": "weather", "calculator": "calculator", "search": "search"}[item.category]
    if not calls:
        return False, "no tool call"
    call = calls[0]
    if call.name != expected:
        return False, f"called {call.name or 'a malformed tool'}, not {expected}"
    if len(calls) > 1:
        return False, f"{len(calls)} tool calls"
    if not call.ok:
        return False, f"the tool failed: {call.result[:60]}"
    if item.category == "weather":
        city = _arg(call, "city")
        if not isinstance(city, str) or city.strip() != item.city:
            return False, f"city {city!r}, not {item.city!r}"
        day = call.args.get("day")
        if day not in (None, "today"):
            return False, f"day {day!r}, not today"
        if call.result not in answer:
            return False, f"reply does not repeat the reading {call.result!r}"
        if not _word_in(item.city, answer):
            return False, f"reply does not name {item.city}"
    elif item.category == "calculator":
        expression = _arg(call, "expression")
        if (not isinstance(expression, str)
                or normalise_expression(expression) != normalise_expression(item.expression)):
            return False, f"expression {expression!r}, not {item.expression!r}"
        if not _number_in(item.value, answer):
            return False, f"reply does not state {item.value}"
    else:
        query = _arg(call, "query")
        if not isinstance(query, str) or not content_words(query) & content_words(item.question):
            return False, f"query {query!r} shares no word with the question"
        if not answer:
            return False, "empty reply"
    return True, "right"


def score_base(item: Item, continuation: str) -> tuple[bool, str]:
    want = f" {item.capital}"
    if continuation.startswith(want) and not continuation[len(want):len(want) + 1].isalnum():
        return True, "right"
    return False, f"continued {continuation!r}"


# -- running the model -----------------------------------------------------------------------


def transcript_of(events: Iterable[Any]) -> Transcript:
    """The :class:`Transcript` of one turn's loop events."""
    from engine.tools.loop import Answer, CallMalformed, CallRecognised, ResultInContext

    calls: list[Call] = []
    pending: Call | None = None
    for event in events:
        if isinstance(event, CallRecognised):
            args = dict(event.call.args)
            for i, value in enumerate(event.call.positional):
                args.setdefault(f"_{i}", value)
            pending = Call(event.call.name, args)
        elif isinstance(event, CallMalformed):
            pending = Call(None)
        elif isinstance(event, ResultInContext) and pending is not None:
            calls.append(Call(pending.name, pending.args, event.result.text, event.result.ok))
            pending = None
        elif isinstance(event, Answer):
            return Transcript(tuple(calls), event.text, event.stop)
    return Transcript(tuple(calls), "", "no answer")


def run_item(item: Item, source: Any, tokenizer: Tokenizer, registry: Any) -> Scored:
    from engine.tools.loop import LoopConfig, run_turn

    config = LoopConfig(max_calls=2, max_answer_tokens=60)
    transcript = transcript_of(run_turn(item.question, source, tokenizer, registry,
                                        config=config))
    right, why = score(item, transcript)
    return Scored(item, transcript, right, why)


def run_base_items(model: Any, tokenizer: Tokenizer, items: list[Item]) -> list[Scored]:
    from engine.inference.evaluate import capital_accuracy

    class _Row:
        def __init__(self, item: Item) -> None:
            self.country, self.capital = item.country, item.capital

    return _scored_base(items, capital_accuracy(model, tokenizer, [_Row(i) for i in items]))


def _scored_base(items: list[Item], accuracy: Any) -> list[Scored]:
    out = []
    for item, answer in zip(items, accuracy.answers, strict=True):
        right, why = score_base(item, answer.answer)
        out.append(Scored(item, Transcript((), answer.answer), right, why))
    return out


def base_report(accuracy: Any) -> EvalReport:
    """The base category of the evaluation, from a quiz of every capital already asked
    (``engine.inference.evaluate.capital_accuracy`` over ``load_capitals()``, as pretraining
    asks it when a run ends): the same items and scoring as `llm-tour eval --model base`."""
    items = [i for i in eval_items() if i.category == "base"]
    if [(i.country, i.capital) for i in items] != [(a.country, a.capital)
                                                   for a in accuracy.answers]:
        raise ValueError("the quiz did not ask the evaluation's capitals, in its order")
    return EvalReport(tuple(_scored_base(items, accuracy)))


@dataclass(frozen=True)
class CategoryScore:
    category: str
    right: int
    total: int

    @property
    def fraction(self) -> float:
        return self.right / self.total if self.total else 0.0


@dataclass(frozen=True)
class EvalReport:
    scored: tuple[Scored, ...]

    def by_category(self) -> list[CategoryScore]:
        out = []
        for category in CATEGORIES:
            rows = [s for s in self.scored if s.item.category == category]
            if rows:
                out.append(CategoryScore(category, sum(s.right for s in rows), len(rows)))
        return out

    @property
    def right(self) -> int:
        return sum(s.right for s in self.scored)

    @property
    def total(self) -> int:
        return len(self.scored)

    def headline(self) -> str:
        """Whole turns right, over every item asked."""
        share = self.right / self.total if self.total else 0.0
        return f"{self.right} of {self.total} whole turns right ({share:.0%})"

    def short(self) -> str:
        """One line for a report card: each category's right of N."""
        return "; ".join(f"{c.category} {c.right}/{c.total}" for c in self.by_category())

    def figures(self, *, per_category: int | None, command: str) -> dict[str, dict[str, Any]]:
        """What a model version keeps of this evaluation (``engine.model.versions``): the
        headline, each category's right of N, how many items a category asked, the command."""
        from datetime import datetime, timezone

        from engine.model.versions import figures_key

        return {figures_key(per_category): {
            "right": self.right, "total": self.total,
            "categories": [[c.category, c.right, c.total] for c in self.by_category()],
            "per_category": per_category, "command": command,
            "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }}

    def to_dict(self) -> dict[str, Any]:
        return {
            "right": self.right, "total": self.total,
            "categories": {c.category: {"right": c.right, "total": c.total}
                           for c in self.by_category()},
            "items": [{"category": s.item.category, "question": s.item.question,
                       "right": s.right, "why": s.why, "answer": s.transcript.answer,
                       "calls": [{"name": c.name, "args": {k: str(v) for k, v in c.args.items()},
                                  "result": c.result} for c in s.transcript.calls]}
                      for s in self.scored],
        }


def evaluate(model: Any, tokenizer: Tokenizer, registry: Any, *, categories: Iterable[str] = CATEGORIES,
             per_category: int | None = None) -> Iterator[Scored]:
    """Score every item of the chosen categories, one :class:`Scored` at a time."""
    from engine.tools.loop import model_source

    wanted = set(categories)
    unknown = wanted - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown categories {sorted(unknown)}; they are {', '.join(CATEGORIES)}")
    items = [i for i in eval_items(per_category) if i.category in wanted]
    was_training = model.training
    model.eval()
    try:
        source = model_source(model, tokenizer, temperature=0.0)
        for item in items:
            if item.category != "base":
                yield run_item(item, source, tokenizer, registry)
        base = [i for i in items if i.category == "base"]
        if base:
            yield from run_base_items(model, tokenizer, base)
    finally:
        model.train(was_training)


def evaluate_report(model: Any, tokenizer: Tokenizer, registry: Any, **kwargs: Any) -> EvalReport:
    return EvalReport(tuple(evaluate(model, tokenizer, registry, **kwargs)))


# -- the quick check a training stage runs when it ends ----------------------------------------

QUICK_ITEMS = 10  # per category: the same items as `llm-tour eval --limit 10`, a few seconds
# on one thread for the tour's models (455 items in about 6 s, 90 in about 2)


@dataclass(frozen=True)
class Checking:
    """The quick check is under way: ``done`` of ``total`` items asked."""

    done: int
    total: int

    @property
    def progress(self) -> Any:
        from engine.events import Progress

        return Progress(self.done, self.total, "quick check on unseen names")


@dataclass(frozen=True)
class Checked:
    """The quick check's result, kept with the model version(s) it measured."""

    versions: tuple[str, ...]  # the ids of the versions whose checkpoint it measured
    entry: dict[str, Any]  # the figures kept (engine.model.versions.eval_text reads them)
    before_entry: dict[str, Any] | None = None  # the same check of the model it came from

    def text(self, *, compact: bool = False) -> str:
        """The headline and each category's share, with the command."""
        from engine.model.versions import eval_text

        return eval_text(self.entry, compact=compact)

    def before(self, *, compact: bool = False) -> str:
        """The same for the model it started from ("" when that was not measured so)."""
        from engine.model.versions import eval_text

        return eval_text(self.before_entry, compact=compact) if self.before_entry else ""


def quick_check(ws: Any, checkpoint: Any, model: Any, tokenizer: Tokenizer, *,
                parent: str | None = None, stop: Any = None,
                per_category: int = QUICK_ITEMS) -> Iterator[Checking | Checked]:
    """Score ``model`` (the weights saved in ``checkpoint``) on the first ``per_category``
    items of each category, on one thread, and keep the figures with its version. A stop
    between items ends it without keeping anything."""
    from engine.model.device import one_thread
    from engine.model.versions import ModelVersions, UnknownVersion, figures_key
    from engine.tools.registry import default_registry

    registry = default_registry(ws)
    registry.prepare()
    total = len(eval_items(per_category))
    scored: list[Scored] = []
    with one_thread():
        for row in evaluate(model, tokenizer, registry, per_category=per_category):
            if stop is not None and stop():
                return
            scored.append(row)
            yield Checking(len(scored), total)
    versions = ModelVersions(ws)
    named = versions.with_file(checkpoint)
    which = f"--version {named[-1].id} " if named else ""
    figures = EvalReport(tuple(scored)).figures(
        per_category=per_category, command=f"llm-tour eval {which}--limit {per_category}")
    kept = versions.measure(checkpoint, figures)
    earlier = None
    if parent:
        try:
            earlier = versions.get(parent).figures.get(figures_key(per_category))
        except UnknownVersion:
            earlier = None
    yield Checked(tuple(v.id for v in kept), next(iter(figures.values())),
                  earlier if isinstance(earlier, dict) else None)
