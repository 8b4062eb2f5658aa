"""Every filter on cases that pass and cases that fail, and never raising on junk."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data.document import Document
from engine.data.passes.c4 import C4QualityFilter
from engine.data.passes.exact_dedup import ExactDedup
from engine.data.passes.fineweb import FineWebQualityFilter
from engine.data.passes.gopher_quality import GopherQualityFilter
from engine.data.passes.gopher_repetition import GopherRepetitionFilter
from engine.data.passes.language import LanguageFilter
from engine.data.passes.minhash import MinHashDedup
from engine.data.passes.normalise import Normaliser
from engine.data.passes.pii import EmailAnonymiser
from engine.data.pipeline import corpus_passes, page_passes
from engine.data.urlfilter import URLFilter

GOOD = (
    "Bread needs only four ingredients: flour, water, salt, and yeast. The rest is time and a "
    "warm kitchen.\n"
    "Mix 500 grams of flour with 10 grams of salt and 7 grams of dried yeast, then add about "
    "320 millilitres of lukewarm water and stir until no dry flour remains.\n"
    "Knead the dough for ten minutes until it is smooth and springs back when pressed. Cover "
    "it and let it rise for about an hour, until it has doubled in size.\n"
    "Shape the loaf, let it rise again for thirty minutes, and bake it at 220 degrees for 30 "
    "to 35 minutes. It is done when the bottom sounds hollow when tapped."
)


def doc(text: str, url: str = "http://a.example/x") -> Document:
    return Document(url=url, text=text)


# --- URL filter ------------------------------------------------------------------------
def test_url_filter_keeps_ordinary_pages():
    verdict = URLFilter()("http://travel-notes.example/europe/capitals")
    assert verdict.keep and verdict.category == "ok"


def test_url_filter_blocks_by_category():
    f = URLFilter()
    assert f("http://xxx-video-world.example/free").category == "adult"
    assert f("http://claim-your-prize-now.example/winner").category == "malware"
    assert f("http://cheap-pills-online.example/buy").category == "spam"
    assert f("http://sub.cheap-pills-online.example/buy").category == "spam"


def test_url_filter_blocks_file_types_and_schemes():
    f = URLFilter()
    for url in ("http://a.example/map.pdf", "http://a.example/p.JPG", "http://a.example/x.zip",
                "http://a.example/setup.exe"):
        assert f(url).category == "file_type", url
    assert f("ftp://a.example/file").category == "scheme"
    assert f("mailto:someone@a.example").category == "scheme"
    assert not f("").keep
    assert not f("http://a.example/login").keep  # courlan: not crawlable


@given(st.text(max_size=300))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_url_filter_never_raises(text):
    f = URLFilter()
    for url in (text, "http://" + text, "https://a.example/" + text):
        verdict = f(url)
        assert isinstance(verdict.keep, bool)


# --- passes ----------------------------------------------------------------------------
def test_normaliser():
    d = doc("  Caf\u0065\u0301\u00a0 au  lait\r\n\n\n\nnext\u200b line ")
    assert Normaliser()(d) is None
    assert d.text == "Caf\u00e9 au lait\n\nnext line"
    assert Normaliser()(doc(" \n\t ")).reason == "empty"


def test_language_filter():
    f = LanguageFilter()
    english = doc(GOOD)
    assert f(english) is None and english.metadata["language"] == "en"
    french = doc("Les élèves confondent souvent les villes, les régions et les pays quand ils "
                 "apprennent la géographie. La capitale de la France est Paris.")
    assert f(french).reason == "not_english"


def test_gopher_repetition():
    f = GopherRepetitionFilter()
    assert f(doc(GOOD)) is None
    # one line ten times is one paragraph of repeated lines; ten such paragraphs repeat as
    # paragraphs, which the filter checks first
    assert f(doc("\n".join(["Buy cheap flights today."] * 10))).reason == "dup_line_frac"
    assert f(doc("\n\n".join(["Buy cheap flights today."] * 10))).reason == "dup_para_frac"
    stuffed = " ".join(["cheap flights"] * 80)
    assert f(doc(stuffed)).reason.startswith(("top_", "duplicated_"))


def test_gopher_quality():
    f = GopherQualityFilter()
    assert f(doc(GOOD)) is None
    assert f(doc("Too short to be a document.")).reason == "gopher_short_doc"
    bullets = "\n".join(f"- item number {i} in the list of things" for i in range(60))
    assert f(doc(bullets)).reason in ("gopher_too_many_bullets", "gopher_enough_stop_words")
    hashes = GOOD + " " + " ".join(["#travel"] * 30)
    assert f(doc(hashes)).reason == "gopher_too_many_hashes"
    long_words = " ".join(["extraordinarily"] * 60) + " the and of"
    assert f(doc(long_words)).reason == "gopher_above_avg_threshold"
    no_stop = " ".join(["apple banana cherry"] * 30)
    assert f(doc(no_stop)).reason == "gopher_enough_stop_words"


def test_c4():
    f = C4QualityFilter()
    d = doc(GOOD + "\nThis site uses cookies.\nMenu\nEnable javascript to see the map.")
    assert f(d) is None
    assert "cookies" not in d.text and "Menu" not in d.text and "javascript" not in d.text
    assert f(doc(GOOD + "\nLorem ipsum dolor sit amet, consectetur.")).reason == "lorem_ipsum"
    assert f(doc(GOOD + "\nfunction x() { return 1; }")).reason == "curly_bracket"
    assert f(doc("One sentence only here.")).reason == "too_few_sentences"


def test_fineweb():
    f = FineWebQualityFilter()
    assert f(doc(GOOD)) is None
    no_punct = "\n".join(f"a line of words without an end number {i}" for i in range(20))
    assert f(doc(no_punct)).reason == "line_punct_ratio"
    short = "\n".join(f"Item {i}." for i in range(20))
    assert f(doc(short)).reason == "short_line_ratio"
    repeated = GOOD + "\n" + GOOD.split("\n")[0]
    assert f(doc(repeated)).reason == "char_dup_ratio"


def test_exact_dedup():
    f = ExactDedup()
    assert f(doc(GOOD, "http://a.example/1")) is None
    assert f(doc(GOOD.upper(), "http://b.example/1")).reason == "exact_duplicate"


def test_minhash_near_duplicates():
    f = MinHashDedup()
    assert f(doc(GOOD, "http://a.example/1")) is None
    edited = GOOD.replace("ten minutes", "twelve minutes") + " Share this with friends."
    drop = f(doc(edited, "http://b.example/1"))
    assert drop is not None and drop.reason == "near_duplicate" and "a.example/1" in drop.detail
    other = doc("Water on Earth moves in a continuous cycle. The sun heats water in oceans, "
                "lakes, and rivers, and some of it evaporates into the air as water vapour.",
                "http://c.example/1")
    assert f(other) is None


def test_email_anonymiser():
    d = doc("Write to maya.writes@small-events.example or office@school.example today.")
    assert EmailAnonymiser()(d) is None
    assert "@small-events" not in d.text and d.text.count("email@example.com") == 2
    assert d.metadata["emails_replaced"] == 2


@given(st.text(max_size=2000))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_passes_never_raise(text):
    for step in page_passes() + corpus_passes():
        d = doc(text)
        verdict = step(d)
        assert verdict is None or verdict.reason
