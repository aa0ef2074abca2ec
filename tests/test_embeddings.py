"""Document embedding: batches in token order, same vectors as one SentenceTransformer.encode."""

from __future__ import annotations

import numpy as np
import pytest

# Short in characters but many tokens (a code listing) against long prose with few tokens.
CODE = "x[0]=1;y[1]=2;z[2]=3;" * 6
PROSE = "The descaling programme removes limescale from the boiler and the pipework. " * 2
TEXTS = [PROSE, CODE, "Short.", "설치 방법을 한국어로 설명해 주세요.", PROSE + CODE, "x"]


def test_batches_are_ordered_by_tokens_not_characters(embedder) -> None:  # type: ignore[no-untyped-def]
    tokenizer = embedder._load().tokenizer
    n_tokens = [len(tokenizer(t)["input_ids"]) for t in (CODE, PROSE)]
    assert len(CODE) < len(PROSE) and n_tokens[0] > n_tokens[1]  # the premise of the test
    order = embedder._longest_first(TEXTS)
    assert order[0] == 4 and order.index(1) < order.index(0)  # CODE before the longer PROSE
    assert order[-1] == 5  # "x"
    assert sorted(order) == list(range(len(TEXTS)))


def test_vectors_equal_one_encode_call_in_input_order(embedder) -> None:  # type: ignore[no-untyped-def]
    ref = embedder._load().encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    for batch_size in (1, 2, 32):
        ours = embedder.embed_documents(TEXTS, batch_size=batch_size)
        assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
        assert np.abs(ours - ref).max() < 1e-5
    assert float(ours[0] @ ours[1]) < 0.9  # distinct texts stay apart


def test_token_order_holds_across_tokenizer_slices(embedder) -> None:  # type: ignore[no-untyped-def]
    texts = [" ".join(["word"] * (i % 50 + 1)) for i in range(1030)]  # 1 to 50 tokens + 2
    order = embedder._longest_first(texts)
    lengths = [i % 50 + 1 for i in order]
    assert lengths == sorted(lengths, reverse=True) and lengths[0] == 50 and lengths[-1] == 1
    assert sorted(order) == list(range(1030))


def test_a_cancel_before_embedding_embeds_nothing(embedder) -> None:  # type: ignore[no-untyped-def]
    from rag_desktop.progress import Cancelled, CancelToken

    token = CancelToken()
    token.cancel()
    before = embedder.documents_embedded
    with pytest.raises(Cancelled):
        embedder.embed_documents(TEXTS * 300, cancel=token)  # stops while counting tokens
    assert embedder.documents_embedded == before


def test_count_tokens_agrees_with_the_model_below_its_window(embedder) -> None:  # type: ignore[no-untyped-def]
    long_text = PROSE * 40  # far past 256 word pieces
    counted = embedder.count_tokens([*TEXTS, long_text])
    truncated = embedder.token_lengths([*TEXTS, long_text])
    assert counted[:-1] == truncated[:-1]  # the same tokenizer, specials included
    assert truncated[-1] == embedder.max_tokens == 256 < counted[-1]
