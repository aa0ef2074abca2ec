"""The runner's decode loop against llama-cpp-python's own completion, on the real SmolLM2."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator

import llama_cpp
import pytest

from rag_desktop.config import DEFAULT_MODEL_ID
from rag_desktop.llm.catalog import load_catalog
from rag_desktop.llm.decoder import (
    Decoder,
    GenerationResult,
    RepetitionGuard,
    RepetitionRule,
    StopScanner,
)
from rag_desktop.llm.llama_adapter import fast_path_problem
from rag_desktop.llm.public_decoder import PublicDecoder, make_decoder

PROMPTS = [
    "<|im_start|>system\nYou answer questions about manuals.<|im_end|>\n<|im_start|>user\n"
    "What does lilypond-book do?<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou answer questions about manuals.<|im_end|>\n<|im_start|>user\n"
    "설치 방법을 한국어로 설명해 주세요.<|im_end|>\n<|im_start|>assistant\n",
]


def test_stop_scanner_holds_back_a_stop_split_across_pieces() -> None:
    scanner = StopScanner(["<|im_end|>"])
    shown = [scanner.feed(p) for p in ["Hello <", "|im", "_e", "nd|> trailing"]]
    assert shown == ["Hello ", "", "", ""] and scanner.stopped


def test_stop_scanner_releases_a_false_alarm_and_flushes() -> None:
    scanner = StopScanner(["</s>", "###"])
    assert scanner.feed("a <") == "a "
    assert scanner.feed("b> #") == "<b> "
    assert not scanner.stopped and scanner.flush() == "#"


def test_stop_scanner_ends_at_the_earliest_stop() -> None:
    scanner = StopScanner(["B", "A"])
    assert scanner.feed("xxAyyB") == "xx" and scanner.stopped


@pytest.fixture(scope="module")
def llm() -> Iterator[llama_cpp.Llama]:
    path = load_catalog().get(DEFAULT_MODEL_ID).path
    model = llama_cpp.Llama(str(path), n_ctx=1024, n_batch=64, n_threads=2, verbose=False)
    yield model
    model.close()


def _reference(llm: llama_cpp.Llama, tokens: list[int], max_tokens: int) -> str:
    llm.reset()
    out = llm.create_completion(tokens, max_tokens=max_tokens, temperature=0.0)
    return str(out["choices"][0]["text"])  # type: ignore[index]


def _ours(decoder: Decoder, tokens: list[int], max_tokens: int,
          stop: list[str] | None = None) -> tuple[str, GenerationResult]:
    result = GenerationResult()
    pieces = decoder.generate(tokens, max_tokens=max_tokens, temperature=0.0, top_p=1.0,
                              stop=stop or [], should_stop=lambda: False, result=result)
    return "".join(pieces), result


@pytest.mark.parametrize("prompt", PROMPTS, ids=["english", "korean"])
def test_greedy_output_equals_llama_cpp_python(llm: llama_cpp.Llama, prompt: str) -> None:
    tokens = llm.tokenize(prompt.encode(), add_bos=True, special=True)
    expected = _reference(llm, tokens, 40)
    decoder = Decoder(llm)
    decoder.reset()
    text, result = _ours(decoder, tokens, 40)
    assert text == expected and "\ufffd" not in text
    assert result.prompt_tokens == len(tokens) and 0 < result.completion_tokens <= 40
    assert result.finish_reason in ("stop", "length")


def test_a_shared_prefix_is_reused_and_changes_nothing(llm: llama_cpp.Llama) -> None:
    decoder = Decoder(llm)
    decoder.reset()
    first = llm.tokenize(PROMPTS[1].encode(), add_bos=True, special=True)
    second = llm.tokenize(PROMPTS[0].encode(), add_bos=True, special=True)
    _ours(decoder, first, 8)
    text, result = _ours(decoder, second, 24)
    common = next(i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b)
    assert result.reused_tokens == common > 10
    fresh = Decoder(llm)
    fresh.reset()
    assert text == _ours(fresh, second, 24)[0]


def test_max_tokens_is_exact_and_stops_cut_the_text(llm: llama_cpp.Llama) -> None:
    decoder = Decoder(llm)
    decoder.reset()
    tokens = llm.tokenize(PROMPTS[0].encode(), add_bos=True, special=True)
    text, result = _ours(decoder, tokens, 12)
    assert result.completion_tokens == 12 and result.finish_reason == "length"
    word = text.split()[2]  # a stop string taken from the answer itself
    cut, result = _ours(decoder, tokens, 12, stop=[word])
    assert cut == text[: text.index(word)] and result.finish_reason == "stop"


def test_a_cut_never_ends_in_half_a_character(llm: llama_cpp.Llama) -> None:
    # SmolLM2 spells Hangul in byte pieces, so some max_tokens fall inside a character.
    decoder = Decoder(llm)
    tokens = llm.tokenize("질문: 한국어로 길게 설명해 주세요.\n답변:".encode(), add_bos=True,
                          special=True)
    for max_tokens in range(1, 16):
        decoder.reset()
        text, result = _ours(decoder, tokens, max_tokens)
        assert "\ufffd" not in text, (max_tokens, text)


def test_a_prompt_longer_than_the_context_is_refused(llm: llama_cpp.Llama) -> None:
    decoder = Decoder(llm)
    with pytest.raises(ValueError, match="context holds 1024"):
        list(decoder.generate([1] * 2000, max_tokens=4, temperature=0.0, top_p=1.0, stop=[],
                              should_stop=lambda: False))


def test_sampling_follows_the_seed(llm: llama_cpp.Llama) -> None:
    decoder = Decoder(llm)
    decoder.reset()
    tokens = llm.tokenize(PROMPTS[0].encode(), add_bos=True, special=True)

    def sample(seed: int) -> str:
        return "".join(decoder.generate(tokens, max_tokens=24, temperature=1.5, top_p=0.95,
                                        stop=[], should_stop=lambda: False, seed=seed))

    first, again = sample(7), sample(7)
    assert first == again and first.strip()
    assert any(sample(seed) != first for seed in range(8, 12))


def _guarded(pieces: list[tuple[int, str]], rule: RepetitionRule | None = None) -> tuple[str, bool]:
    guard = RepetitionGuard(rule)
    shown = ""
    for token, text in pieces:
        shown += guard.feed(token, text)
        if guard.stopped:
            break
    return shown + guard.flush(), guard.stopped


def _tokens(llm: llama_cpp.Llama, text: str) -> list[tuple[int, str]]:
    """`text` as the model's (token, piece) stream, as the decode loop feeds the guard."""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    ids = llm.tokenize(text.encode(), add_bos=False, special=False)
    return [(t, utf8.decode(llm.detokenize([t]))) for t in ids]


def test_the_guard_cuts_a_repeated_sentence_before_it_is_shown(llm: llama_cpp.Llama) -> None:
    loop = "Use lilypond-book for that. " + "The --pdf option is used to generate PDF files. " * 10
    shown, stopped = _guarded(_tokens(llm, loop))
    assert stopped
    once = "Use lilypond-book for that. The --pdf option is used to generate PDF files."
    assert shown.strip() == once


def test_the_guard_cuts_a_korean_loop_and_a_counting_loop(llm: llama_cpp.Llama) -> None:
    shown, stopped = _guarded(_tokens(llm, "설치는 make로 합니다. " + "어떻게 하나요? " * 30))
    assert stopped and shown.strip() == "설치는 make로 합니다. 어떻게 하나요?"
    counting = "The sections are " + ", ".join(f"1.1.{i}" for i in range(1, 23)) + "."
    shown, stopped = _guarded(_tokens(llm, counting))
    assert stopped and shown.startswith("The sections are 1.1.1, 1.1.2") and "1.1.9" not in shown


def test_the_guard_leaves_normal_answers_whole(llm: llama_cpp.Llama) -> None:
    from benchmarks.devsets import dev_sets

    answers = [item["reference_answer"] for devset in dev_sets() for item in devset.items()]
    answers.append("Steps:\n1. Run make.\n2. Run make install.\n\\begin{itemize}\n  \\item A\n"
                   "  \\item B\n  \\item C\n\\end{itemize}\nSee [1] and [2].")
    assert len(answers) > 60
    for answer in answers:
        shown, stopped = _guarded(_tokens(llm, answer))
        assert (shown, stopped) == (answer, False)


def test_a_looping_generation_stops_with_reason_repetition(llm: llama_cpp.Llama) -> None:
    prompt = ("<|im_start|>user\nWrite the sentence 'The pdf option makes PDF files.' twenty "
              "times.<|im_end|>\n<|im_start|>assistant\n")
    tokens = llm.tokenize(prompt.encode(), add_bos=True, special=True)
    decoder = Decoder(llm)
    decoder.reset()
    raw, raw_result = _ours(decoder, tokens, 120)
    result = GenerationResult()
    cut = "".join(decoder.generate(tokens, max_tokens=120, temperature=0.0, top_p=1.0, stop=[],
                                   should_stop=lambda: False, result=result,
                                   repetition=RepetitionRule()))
    assert raw_result.finish_reason == "length"  # without the guard it runs to the limit
    assert result.finish_reason == "repetition" and result.completion_tokens < 120
    assert raw.startswith(cut) and len(cut) < len(raw) / 2


# -- the public-API fallback and the choice between the two loops -------------------------------
def _public(llm: llama_cpp.Llama, tokens: list[int], max_tokens: int, stop: list[str] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> tuple[str, GenerationResult]:
    decoder = PublicDecoder(llm)
    decoder.reset()  # the fast loop edited the KV cache behind Llama's back
    result = GenerationResult()
    pieces = decoder.generate(tokens, max_tokens=max_tokens, temperature=0.0, top_p=1.0,
                              stop=stop or [], should_stop=should_stop, result=result)
    return "".join(pieces), result


def test_the_public_decoder_matches_the_fast_one(llm: llama_cpp.Llama) -> None:
    tokens = llm.tokenize(PROMPTS[0].encode(), add_bos=True, special=True)
    fast = Decoder(llm)
    fast.reset()
    expected, fast_result = _ours(fast, tokens, 16)
    text, result = _public(llm, tokens, 16)
    assert text == expected and result == fast_result  # counts and reason too
    word = text.split()[2]
    cut, result = _public(llm, tokens, 16, stop=[word])
    assert cut == text[: text.index(word)] and result.finish_reason == "stop"
    assert 0 < result.completion_tokens < 16
    calls = iter(range(100))
    _, result = _public(llm, tokens, 16, should_stop=lambda: next(calls) >= 2)
    assert result.stopped and result.completion_tokens <= 4


def test_the_public_decoder_reuses_a_prefill(llm: llama_cpp.Llama) -> None:
    decoder = PublicDecoder(llm)
    decoder.reset()
    tokens = llm.tokenize(PROMPTS[0].encode(), add_bos=True, special=True)
    decoder.prefill(tokens[:10])
    result = GenerationResult()
    list(decoder.generate(tokens, max_tokens=2, temperature=0.0, top_p=1.0, stop=[],
                          should_stop=lambda: False, result=result))
    assert result.reused_tokens == 10


def test_an_untested_llama_cpp_python_falls_back_to_the_public_api(
        llm: llama_cpp.Llama, monkeypatch: pytest.MonkeyPatch) -> None:
    assert fast_path_problem(llm) is None
    assert isinstance(make_decoder(llm), Decoder)
    assert isinstance(make_decoder(llm, "public"), PublicDecoder)
    monkeypatch.setattr(llama_cpp, "__version__", "9.9.9")
    assert "9.9.9 is not one the fast decoder was tested with" in str(fast_path_problem(llm))
    assert isinstance(make_decoder(llm), PublicDecoder)
    assert isinstance(make_decoder(llm, "fast"), Decoder)  # forced: capabilities suffice
    monkeypatch.delattr(llama_cpp, "llama_memory_seq_rm")
    assert "lacks llama_memory_seq_rm" in str(fast_path_problem(llm, check_version=False))
    assert isinstance(make_decoder(llm, "fast"), PublicDecoder)
    monkeypatch.setenv("RAG_DESKTOP_DECODER", "sideways")
    with pytest.raises(ValueError, match="use one of auto, fast, public"):
        make_decoder(llm)
