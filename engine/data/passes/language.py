"""Language identification with py3langid, whose model ships inside the wheel.

FineWeb keeps English documents whose fastText language score is at least 0.65;
here the same threshold applies to py3langid's normalised probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.data.document import Document, Drop


@lru_cache(maxsize=1)
def identifier():
    """py3langid's model with normalised probabilities (loaded once: it is compressed)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@dataclass
class LanguageFilter:
    name: str = "language"
    languages: tuple[str, ...] = ("en",)
    min_score: float = 0.65  # FineWeb: LanguageFilter(languages=["en"], language_threshold=0.65)
    max_chars: int = 1200  # the opening of a page decides its language; the rest adds time

    def __post_init__(self) -> None:
        self._identifier = identifier()

    def __call__(self, doc: Document) -> Drop | None:
        sample = doc.text[: self.max_chars].replace("\n", " ")
        language, score = self._identifier.classify(sample)
        doc.metadata["language"] = language
        doc.metadata["language_score"] = round(float(score), 4)
        if language not in self.languages:
            return Drop("not_english", f"{language} ({score:.2f})")
        if score < self.min_score:
            return Drop("low_language_score", f"{language} ({score:.2f} < {self.min_score})")
        return None
