"""The language model is unpacked once into the cache and mapped from disk after that: the
same answers as py3langid's own model, a small resident cost, and a plain load without a
writable cache."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.passes import language

TEXTS = ("The capital of France is Paris.", "Die Hauptstadt von Frankreich ist Paris.",
         "La capitale de la France est Paris.", "Привет, как дела?", "東京は日本の首都です。",
         "ok", "")


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setattr("engine.workspace.cache_root", lambda: tmp_path / "cache")
    language.identifier.cache_clear()
    yield tmp_path / "cache"
    language.identifier.cache_clear()


def test_the_mapped_model_answers_as_py3langids_own(fresh):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    own = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    mapped = language.identifier()
    assert isinstance(mapped.nb_ptc, np.memmap) and isinstance(mapped.tk_nextmove, np.memmap)
    for text in TEXTS:
        (lang, score), (own_lang, own_score) = mapped.classify(text), own.classify(text)
        assert lang == own_lang and score == pytest.approx(own_score, abs=1e-6), text
    assert sorted(p.name for p in next(fresh.iterdir()).iterdir()) == [
        "classes.npy", "nextmove.npy", "out.npy", "pc.npy", "ptc.npy", "row.npy"]


def test_without_a_writable_cache_the_model_is_loaded_into_memory(fresh):
    fresh.parent.mkdir(parents=True, exist_ok=True)
    fresh.write_text("a file where the cache folder would be")  # nothing can be made in it
    model = language.identifier()
    assert not isinstance(model.nb_ptc, np.memmap)
    assert model.classify(TEXTS[0])[0] == "en"


def test_a_damaged_unpacking_is_not_used_and_is_made_again(fresh):
    folder = language._unpacked_model()
    nextmove = folder / "nextmove.npy"
    nextmove.write_bytes(nextmove.read_bytes()[:1000])  # cut off, as by a full disk
    model = language.identifier()
    assert not isinstance(model.nb_ptc, np.memmap)  # read from py3langid's own file instead
    assert model.classify(TEXTS[0])[0] == "en"
    assert not folder.exists()
    language.identifier.cache_clear()
    assert isinstance(language.identifier().tk_nextmove, np.memmap)  # unpacked again
