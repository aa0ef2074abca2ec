"""The model runner over its pipe, with the real packaged SmolLM2 (and Gemma for the switch)."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from rag_desktop.config import DEFAULT_MODEL_ID, GenerationSettings
from rag_desktop.llm.catalog import ModelEntry, load_catalog
from rag_desktop.llm.client import LLM, LLMError, ModelTooLargeError
from rag_desktop.llm.gguf import GGUFError
from rag_desktop.llm.prompts import SYSTEM_PROMPT, build_messages
from rag_desktop.progress import CancelToken

SETTINGS = GenerationSettings(max_tokens=48, n_ctx_cap=2048)
PASSAGE = ("usage.pdf p. 3", "lilypond-book processes documents that contain music snippets.")


@pytest.fixture(scope="module")
def llm() -> Iterator[LLM]:
    client = LLM()
    client.load(load_catalog().get(DEFAULT_MODEL_ID), SETTINGS)
    yield client
    client.close()


def _smollm() -> ModelEntry:
    return load_catalog().get(DEFAULT_MODEL_ID)


def _mapped(pid: int, name: str) -> bool:
    return name in Path(f"/proc/{pid}/maps").read_text()


def test_load_reports_model_details(llm: LLM) -> None:
    info = llm.info
    assert info is not None
    assert (info.id, info.quant, info.backend, info.n_gpu_layers) == (
        DEFAULT_MODEL_ID, "Q4_1", "CPU", 0)
    assert info.n_ctx == 2048 and info.n_layers == 30 and info.n_threads >= 1


def test_render_uses_the_gguf_chat_template(llm: LLM) -> None:
    rendered = llm.render(build_messages("What does lilypond-book do?", [PASSAGE]))
    assert rendered.prompt.startswith("<|im_start|>system\nYou answer questions")
    assert rendered.prompt.endswith("<|im_start|>assistant\n")
    assert "<|im_end|>" in rendered.stop and "" not in rendered.stop
    assert rendered.n_tokens - llm.count_tokens(rendered.prompt) in (0, 1)  # BOS, if any


def test_stream_yields_text_and_counts(llm: LLM) -> None:
    rendered = llm.render(build_messages("What does lilypond-book do?", [PASSAGE]))
    pieces = list(llm.stream(rendered, SETTINGS))
    assert "".join(pieces).strip()
    stats = llm.last_stats
    assert stats.prompt_tokens == rendered.n_tokens
    assert stats.completion_tokens >= len(pieces) and not stats.stopped
    assert stats.completion_tokens <= SETTINGS.max_tokens


def test_the_system_prompt_is_evaluated_at_load_and_reused(tmp_path: Path) -> None:
    with LLM() as client:
        client.load(_smollm(), SETTINGS)
        rendered = client.render(build_messages("Where is the manual?", [PASSAGE]))
        list(client.stream(rendered, replace(SETTINGS, max_tokens=2)))
        reused = client.last_stats.reused_tokens
        system = client.render([{"role": "system", "content": SYSTEM_PROMPT}])
        # The whole system turn (the template's opening and the prompt) was already evaluated.
        assert system.n_tokens - 5 <= reused < rendered.n_tokens


def test_cancel_stops_within_one_token(llm: LLM) -> None:
    rendered = llm.render(build_messages("Write a long story about music.", [PASSAGE]))
    long = replace(SETTINGS, max_tokens=200, temperature=0.8)
    cancel, seen = CancelToken(), 0
    for _ in llm.stream(rendered, long, cancel):
        seen += 1
        if seen == 3:
            cancel.cancel()
    assert llm.last_stats.stopped
    # The stop is sent the moment cancel() runs; the runner checks it after every token.
    assert llm.last_stats.completion_tokens <= seen + 1 < 200


def test_switch_closes_the_previous_model(tmp_path: Path) -> None:
    with LLM() as client:
        client.load(_smollm(), SETTINGS)
        pid = client.runner_pid
        assert pid is not None and _mapped(pid, "SmolLM2-135M-Instruct.Q4_1.gguf")
        info = client.load(load_catalog().get("gemma3-270m-q4_k_m"), SETTINGS)
        assert info.quant == "Q4_K_M" and client.runner_pid == pid
        assert not _mapped(pid, "SmolLM2-135M-Instruct.Q4_1.gguf")
        assert _mapped(pid, "gemma-3-270m-q4_k_m.gguf")
        rendered = client.render(build_messages("Hi?", [PASSAGE]))
        # Gemma is a base model: the catalog gives it the plain completion layout (generation.md).
        assert rendered.prompt.endswith("Question: Hi?\nAnswer:")


def test_bad_gguf_files_get_clear_errors(tmp_path: Path) -> None:
    src = _smollm().path
    assert src is not None
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(src.read_bytes()[: 20 * 2**20])
    fake = tmp_path / "fake.gguf"
    fake.write_text("this is a text file")
    with LLM() as client:
        for path, message in ((truncated, "truncated"), (fake, "not a GGUF")):
            with pytest.raises(GGUFError, match=message):
                client.load(replace(_smollm(), path=path, file=path.name), SETTINGS)


def test_corrupt_weights_fail_in_the_runner_not_the_app(tmp_path: Path) -> None:
    src = _smollm().path
    assert src is not None
    data = bytearray(src.read_bytes())
    data[8:16] = (2**40).to_bytes(8, "little")  # absurd tensor count: llama.cpp refuses it
    bad = tmp_path / "corrupt.gguf"
    bad.write_bytes(bytes(data))
    with LLM() as client, pytest.raises((LLMError, GGUFError), match="corrupt"):
        client.load(replace(_smollm(), path=bad, file=bad.name), SETTINGS)


def test_model_too_big_is_refused_before_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rag_desktop.llm.client.available_memory_bytes", lambda: 50 * 2**20)
    with LLM() as client, pytest.raises(ModelTooLargeError, match="needs about .* GiB"):
        client.load(_smollm(), SETTINGS)
    assert client.runner_pid is None  # nothing stays resident


def test_killed_runner_gives_an_error_and_the_next_load_recovers(tmp_path: Path) -> None:
    with LLM() as client:
        client.load(_smollm(), SETTINGS)
        rendered = client.render(build_messages("Tell me about music.", [PASSAGE]))
        pid = client.runner_pid
        assert pid is not None
        with pytest.raises(LLMError, match="stopped unexpectedly"):
            for i, _ in enumerate(client.stream(rendered, replace(SETTINGS, max_tokens=200))):
                if i == 1:
                    os.kill(pid, signal.SIGKILL)
        assert client.info is None
        info = client.load(_smollm(), SETTINGS)
        assert info.id == DEFAULT_MODEL_ID and client.runner_pid not in (None, pid)


def test_user_gguf_copy_loads(tmp_path: Path) -> None:
    src = _smollm().path
    assert src is not None
    dst = tmp_path / "copy.gguf"
    shutil.copy(src, dst)
    with LLM() as client:
        info = client.load(replace(_smollm(), id="copy", path=dst, file=dst.name), SETTINGS)
        assert info.file == "copy.gguf"


def test_ctrl_c_in_the_terminal_does_not_kill_the_runner(llm: LLM) -> None:
    pid = llm.runner_pid
    assert pid is not None
    os.kill(pid, signal.SIGINT)  # what a terminal sends to the whole process group
    rendered = llm.render(build_messages("Still there?", [PASSAGE]))
    assert rendered.n_tokens > 0 and llm.runner_pid == pid


def test_a_korean_question_gets_the_korean_instruction(llm: LLM) -> None:
    from rag_desktop.llm.prompts import INSTRUCTIONS

    prompt = llm.render(build_messages("설치는 어떻게 하나요?", [PASSAGE])).prompt
    assert prompt.startswith("<|im_start|>system\n" + INSTRUCTIONS["ko"])
    assert prompt.endswith("질문: 설치는 어떻게 하나요?<|im_end|>\n<|im_start|>assistant\n")


def test_the_passage_budget_holds_in_model_tokens(llm: LLM) -> None:
    korean = "한글 문서는 글자마다 여러 토큰이 됩니다. " * 40
    texts = [korean, "A short English passage.", korean]
    fitted = llm.fit_passages(texts, 200)
    assert sum(llm.count_tokens(t) for t in fitted) <= 200
    assert fitted[1] == texts[1]  # a short passage stays whole
    assert fitted[0].endswith(" …") and korean.startswith(fitted[0][:-2])
    assert llm.fit_passages(texts, None) == texts


def test_a_loop_ends_with_finish_reason_repetition(llm: LLM) -> None:
    messages = [{"role": "user", "content": "Write 'PDF files are made.' twenty times."}]
    settings = replace(SETTINGS, max_tokens=96)
    text = "".join(llm.stream(llm.render(messages), settings))
    assert llm.last_stats.finish_reason == "repetition", text
    assert llm.last_stats.completion_tokens < settings.max_tokens
    lines = [" ".join(x.split()) for x in text.splitlines() if len(x.split()) >= 2]
    assert len(lines) == len(set(lines)), text  # the repeated line was cut, not shown


def test_gemma_continues_the_completion_layout_without_echoing() -> None:
    from rag_desktop.llm.prompts import SYSTEM_PROMPT

    entry = load_catalog().get("gemma3-270m-q4_k_m")
    assert entry.prompt_format == "completion"
    with LLM() as client:
        client.load(entry, SETTINGS)
        rendered = client.render(build_messages("What does lilypond-book do?", [PASSAGE]))
        assert rendered.prompt.endswith("Question: What does lilypond-book do?\nAnswer:")
        assert "\nQuestion:" in rendered.stop
        answer = "".join(client.stream(rendered, replace(SETTINGS, max_tokens=24))).strip()
    assert answer and not SYSTEM_PROMPT.startswith(answer[:20])
    assert " ".join(SYSTEM_PROMPT.split()[:6]) not in answer
