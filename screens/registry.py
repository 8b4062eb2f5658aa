"""Every chapter of the tour, in the order of the talk. The one place a chapter is added.

A chapter is a screen module plus one line here. Only chapters listed here appear
in the tour, the menu, ``--list`` and the command palette. Screens are imported
lazily, when the viewer first opens them, so start-up stays fast.

The talk's order: welcome, data, tokens, training loop, inside the neural net,
sampling loop, history, conversations, tools, preferences, summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class Chapter:
    slug: str  # short name for --chapter and the workspace state
    title: str  # as the header shows it: "3/11 · Tokens"
    screen: str  # "module:ClassName" of its ChapterScreen
    blurb: str  # one line for the chapter map and --list

    def load(self) -> type:
        module, _, name = self.screen.partition(":")
        return getattr(import_module(module), name)


CHAPTERS: tuple[Chapter, ...] = (
    Chapter("welcome", "Welcome", "screens.welcome:WelcomeScreen",
            "Two phases to keep separate: training and inference."),
    Chapter("data", "Data", "screens.data:DataScreen",
            "Web page to dataset row: a real crawl, cleaned the way FineWeb does."),
    Chapter("tokens", "Tokens", "screens.tokens:TokensScreen",
            "Text becomes token IDs: GPT-4's tokenizer, and the tour's own, trained here."),
    Chapter("training", "Training loop", "screens.training:TrainingScreen",
            "A window goes in, a probability map comes out; watch a tiny GPT learn live."),
    Chapter("inside", "Inside the neural net", "screens.inside:InsideScreen",
            "The context goes in, the parameters shape the equation, a map comes out."),
    Chapter("sampling", "Sampling loop", "screens.sampling:SamplingScreen",
            "Predict, choose, append, repeat: the model writes one token at a time."),
    Chapter("history", "History", "screens.history:HistoryScreen",
            "From Attention Is All You Need to GPT-3: an internet-text generator."),
    Chapter("conversations", "Conversations", "screens.conversations:ConversationsScreen",
            "A conversation dataset and a short fine-tune: base model vs assistant."),
    Chapter("tools", "Tools", "screens.tools:ToolsScreen",
            "The tool call loop: the model asks, the app runs the tool, the result returns."),
    Chapter("preferences", "Preferences", "screens.preferences:PreferencesScreen",
            "The human preference loop: rank answers, and the votes nudge the model."),
    Chapter("summary", "Summary", "screens.summary:SummaryScreen",
            "Six takeaways, and the next doors to open."),
)


def find_chapter(key: str | int) -> int:
    """The index of a chapter given its number (1-based), slug or title; ValueError if none."""
    text = str(key).strip()
    if text.isdigit():
        number = int(text)
        if 1 <= number <= len(CHAPTERS):
            return number - 1
        raise ValueError(f"There is no chapter {number}: the tour has chapters 1 to {len(CHAPTERS)}.")
    wanted = text.lower().replace("-", " ").replace("_", " ")
    for index, chapter in enumerate(CHAPTERS):
        if wanted in (chapter.slug.replace("_", " "), chapter.title.lower()):
            return index
    for index, chapter in enumerate(CHAPTERS):
        if chapter.title.lower().startswith(wanted) or chapter.slug.startswith(wanted):
            return index
    names = ", ".join(c.slug for c in CHAPTERS)
    raise ValueError(f"No chapter called {text!r}. Chapters: {names}.")
