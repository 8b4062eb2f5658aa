"""Language identification with py3langid, whose model ships inside the wheel.

FineWeb keeps English documents whose fastText language score is at least 0.65;
here the same threshold applies to py3langid's normalised probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.data.document import Document, Drop

MAPPED = ("ptc", "nextmove", "row")  # the large tables, read from disk as they are used


@lru_cache(maxsize=1)
def identifier():
    """py3langid's model with normalised probabilities, loaded once.

    The model ships compressed; unpacked into memory it holds 70-100 MB, most of it tables
    a short sample touches a few pages of. So it is unpacked once into the user's cache as
    plain arrays, and every later process maps those from disk: each of them holds only
    the pages its samples touch. Without a writable cache it is unpacked into memory."""
    import numpy as np
    from py3langid.langid import LanguageIdentifier

    folder = None
    try:
        folder = _unpacked_model()
        tables = {name: np.load(folder / f"{name}.npy", mmap_mode="r" if name in MAPPED else None)
                  for name in ("ptc", "pc", "classes", "nextmove", "row", "out")}
    except (OSError, ValueError):
        if folder is not None:  # a damaged unpacking: the next process unpacks it again
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
        from py3langid.langid import MODEL_FILE

        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return LanguageIdentifier(tables["ptc"], tables["pc"], tables["classes"].tolist(),
                              tables["nextmove"], tables["out"].tolist(), norm_probs=True,
                              tk_row=tables["row"].tolist())


def _unpacked_model():
    """The folder of the model's arrays in the cache, unpacked by the first process that
    needs them (written under a temporary name, then renamed: never half there)."""
    import os
    import shutil
    import tempfile
    from importlib.metadata import version
    from pathlib import Path

    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, _load_model_file

    from engine.workspace import cache_root

    folder = cache_root() / f"py3langid-{version('py3langid')}"
    if (folder / "out.npy").exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    path = Path(MODEL_FILE)
    ptc, pc, classes, nextmove, row, out = _load_model_file(
        path if path.is_absolute() else Path(MODEL_DIR) / path)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, table in (("ptc", ptc), ("pc", pc), ("classes", np.asarray(classes)),
                            ("nextmove", np.asarray(nextmove)), ("row", np.asarray(row)),
                            ("out", np.asarray(out))):
            np.save(staging / f"{name}.npy", table, allow_pickle=False)
        os.replace(staging, folder)
    except OSError:
        if not (folder / "out.npy").exists():  # another process may have won the race
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


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
