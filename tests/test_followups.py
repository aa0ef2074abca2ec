"""Follow-up questions on real parts: a PDF written here, the real embedder, SmolLM2 in its runner.

The manual below is built so that the follow-up "and how do I undo that?" names nothing it is
about: retrieved as asked, the undo pages of other programs win; made standalone, the printer
driver's removal page does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from rag_desktop.answer import Answer, Source, Timings
from rag_desktop.chat.condense import clean_rewrite, condense_messages
from rag_desktop.chat.followup import (
    STRATEGIES,
    Prior,
    merge_sources,
    parse_strategy,
    prepend,
    standalone_query,
)
from rag_desktop.chat.store import ConversationStore
from rag_desktop.chat.turns import Turn
from rag_desktop.config import DEFAULT_MODEL_ID, ConversationSettings, GenerationSettings
from rag_desktop.library.library import Library
from rag_desktop.llm.catalog import load_catalog
from rag_desktop.llm.client import LLM
from rag_desktop.pipeline import Pipeline
from rag_desktop.session import Session
from tests.pdfs import make_pdf

PAGES = [
    "Installing the Zephyr printer driver. Download the Zephyr driver package, run setup.exe "
    "and follow the wizard. The printer driver takes 200 MB of storage.",
    "Removing the Zephyr printer driver. To remove the printer driver, open Settings, choose "
    "Apps, select Zephyr printer driver and click Uninstall. Restart the computer afterwards.",
    "Undo in the photo editor. Press Ctrl+Z to undo the last brush stroke; the photo editor "
    "keeps fifty undo steps. Redo with Ctrl+Y.",
    "Undo in the text editor. Choose Edit, then Undo, to take back your last typing. "
    "Undo works for the last hundred changes.",
    "Warranty. The Zephyr hardware is covered for two years from the date of purchase.",
    "Photo editor cache. The photo editor needs 2 GB of free disk space for its cache.",
    "Backup tool. The backup tool needs as much free disk space as the files it copies.",
]
FIRST = "How do I install the Zephyr printer driver?"
UNDO = "and how do I undo that?"
INSTALL_PAGE, REMOVE_PAGE = 1, 2


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    root = tmp_path_factory.mktemp("followups")
    lib = Library.open(root / "lib")
    lib.add_pdf(make_pdf(root / "zephyr.pdf", PAGES))
    gen = GenerationSettings(max_tokens=12, n_ctx_cap=2048)
    session = Session(LLM(), load_catalog(), None, lib, generation=gen)
    session.load_model(DEFAULT_MODEL_ID)
    yield session
    session.close()


@pytest.fixture
def pipe(session: Session) -> Pipeline:
    return session.pipeline(use_cache=False)


def top_pages(pipe: Pipeline, query: str, k: int = 2) -> list[int]:
    return [h.chunk.page for h in pipe.library.search(query, k=k).hits]


def first_turn(pipe: Pipeline) -> Turn:
    return pipe.ask_turn(FIRST)


def test_strategy_names_parse_and_unknown_ones_are_refused() -> None:
    assert parse_strategy("prepend+sources") == ("prepend", True)
    assert parse_strategy("llm") == ("llm", False)
    assert len(STRATEGIES) == 6
    with pytest.raises(ValueError, match="unknown follow-up strategy"):
        parse_strategy("hyde")


def test_the_baseline_misses_the_page_a_standalone_query_finds(pipe: Pipeline) -> None:
    assert REMOVE_PAGE not in top_pages(pipe, UNDO)  # as asked: other programs' undo pages
    history = [Prior(FIRST, FIRST)]
    made = standalone_query(UNDO, history, "prepend")
    assert made.query == prepend(FIRST, UNDO) and made.rewrite == "prepend"
    assert REMOVE_PAGE in top_pages(pipe, made.query)
    plain = standalone_query(UNDO, history, "none")
    assert plain.query == UNDO and plain.rewrite == "none"


def test_a_first_turn_is_never_rewritten(pipe: Pipeline) -> None:
    for strategy in STRATEGIES:
        made = standalone_query(FIRST, [], strategy, llm=pipe.llm)
        assert made.query == FIRST and made.rewrite == "none" and not made.keep_sources


def test_the_llm_rewrite_is_a_standalone_query_from_the_real_model(pipe: Pipeline) -> None:
    made = standalone_query(UNDO, [Prior(FIRST, FIRST)], "llm", llm=pipe.llm,
                            generation=pipe.generation, rewrite_tokens=48)
    assert made.query.strip() and made.query != UNDO
    if made.rewrite == "llm":  # the model's own words: they name what "that" is
        lowered = made.query.lower()
        assert "driver" in lowered or "zephyr" in lowered or "printer" in lowered, made.query
    else:  # refused as empty, an echo or too long: the prepend fallback
        assert made.rewrite == "prepend" and made.query == prepend(FIRST, UNDO)


def test_a_useless_rewrite_falls_back() -> None:
    assert clean_rewrite("", UNDO, FIRST) is None
    assert clean_rewrite("  And how do I undo that? ", UNDO, FIRST) is None  # an echo
    assert clean_rewrite(FIRST, UNDO, FIRST) is None  # the earlier question again
    assert clean_rewrite("word " * 60, UNDO, FIRST) is None  # too long
    assert clean_rewrite("How long does resetting the kettle take?", UNDO, FIRST) is None
    assert clean_rewrite("Run the Zephyr driver's setup.exe again.", UNDO, FIRST) is None  # answer
    assert clean_rewrite("How do I undo my last brush stroke?", UNDO, FIRST) is None  # unanchored
    good = clean_rewrite('Standalone question: "How do I uninstall the Zephyr driver?"\nmore',
                         UNDO, FIRST)
    assert good == "How do I uninstall the Zephyr driver?"


def test_the_condense_prompt_speaks_the_questions_language() -> None:
    ko = condense_messages("그럼 윈도우에서는요?", "R은 어떻게 지우나요?")
    en = condense_messages(UNDO, FIRST)
    assert "다시 쓴 질문" in ko[1]["content"] and ko[1]["content"].endswith("다시 쓴 질문:")
    assert en[1]["content"].endswith(f"Follow-up: {UNDO}\nStandalone question:")


def source(page: int, rank: int) -> Source:
    return Source(rank, "m.pdf", page, None, f"page {page}", 0.0, 0.0, 0.0)


def test_kept_sources_are_fused_by_rank() -> None:
    new = [source(p, r) for r, p in enumerate([3, 4, 6, 5], 1)]
    previous = [source(p, r) for r, p in enumerate([1, 2, 4], 1)]
    merged = merge_sources(new, previous, 4)
    # page 4 is in both lists, so it rises to the top; then the pages by their best rank
    assert [s.page for s in merged] == [4, 3, 1, 2] and [s.rank for s in merged] == [1, 2, 3, 4]
    assert merge_sources(new, [], 4) == new


def test_keeping_sources_finds_a_page_the_new_query_misses(pipe: Pipeline) -> None:
    follow = "how much disk space does it need?"
    assert INSTALL_PAGE not in top_pages(pipe, follow)  # the photo editor's cache page wins
    previous = [Source.from_hit(h) for h in pipe.library.search(FIRST, k=2).hits]
    assert previous[0].page == INSTALL_PAGE
    new = [Source.from_hit(h) for h in pipe.library.search(follow, k=2).hits]
    assert INSTALL_PAGE in [s.page for s in merge_sources(new, previous, 2)]


def test_ask_turn_retrieves_a_follow_up_standalone_and_saves_it(pipe: Pipeline,
                                                                tmp_path: Path) -> None:
    pipe.conversation = ConversationSettings(strategy="prepend")
    first = first_turn(pipe)
    assert first.query == FIRST and first.rewrite == "none"
    second = pipe.ask_turn(UNDO, [first])
    assert second.query == prepend(FIRST, UNDO) and second.strategy == "prepend"
    assert second.answer.question == UNDO and REMOVE_PAGE in [s.page for s in
                                                                 second.answer.sources]
    assert second.settings["retrieval"]["k"] == pipe.retrieval.k
    assert second.settings["conversation"]["strategy"] == "prepend"
    with ConversationStore(tmp_path / "c.sqlite") as store:
        cid = store.create().id
        store.append_turn(cid, first)
        store.append_turn(cid, second)
    with ConversationStore(tmp_path / "c.sqlite") as store:
        saved = store.get(cid)
    assert saved.turns == [first, second] and saved.title == FIRST


def fake_turn(question: str, text: str) -> Turn:
    info = load_catalog().get(DEFAULT_MODEL_ID)
    from rag_desktop.llm.client import ModelInfo

    model = ModelInfo(info.id, "x.gguf", "Q4_1", 0, "CPU", 1, 2048)
    return Turn(question, question, Answer(question, text, [], model, Timings()))


HISTORY = [fake_turn(f"Question number {n} about the Zephyr driver?",
                     f"Answer number {n}: " + "the wizard installs it. " * 6)
           for n in range(1, 4)]


def test_history_is_dropped_oldest_first_and_the_answer_says_so(pipe: Pipeline) -> None:
    one_turn = pipe.llm.count_tokens(f"{HISTORY[-1].question}\n{HISTORY[-1].answer.text}")
    pipe.conversation = ConversationSettings(strategy="none", history_turns=3,
                                             history_tokens=one_turn + 5)
    rendered, dropped, dropped_turns = pipe._budgeted(FIRST, [], [
        (t.question, t.answer.text) for t in HISTORY])
    assert (dropped, dropped_turns) == (0, 2)
    assert "Question number 3" in rendered.prompt and "Question number 1" not in rendered.prompt
    answer = pipe.ask_turn(FIRST, HISTORY).answer
    assert answer.dropped_turns == 2 and answer.to_json()["dropped_turns"] == 2

    pipe.conversation = ConversationSettings(strategy="none", history_turns=3,
                                             history_tokens=4096)
    rendered, _, dropped_turns = pipe._budgeted(FIRST, [], [(t.question, t.answer.text)
                                                            for t in HISTORY])
    assert dropped_turns == 0 and "Question number 1" in rendered.prompt
    assert pipe.ask_turn(FIRST, HISTORY[:1]).answer.dropped_turns == 0


def test_a_small_window_drops_turns_before_passages(pipe: Pipeline) -> None:
    pipe.conversation = ConversationSettings(strategy="none", history_tokens=4096)
    sources = [Source.from_hit(h) for h in pipe.library.search(FIRST, k=2).hits]
    history = [(t.question, t.answer.text) for t in HISTORY]
    alone, _, _ = pipe._budgeted(FIRST, sources, history[-1:])
    info = pipe.llm.info
    assert info is not None
    pipe.llm.info = replace(info, n_ctx=pipe.generation.max_tokens + alone.n_tokens)
    try:
        rendered, dropped, dropped_turns = pipe._budgeted(FIRST, sources, history)
    finally:
        pipe.llm.info = info
    assert (dropped, dropped_turns) == (0, 2)  # both passages stay, the two oldest turns go
    assert "Question number 3" in rendered.prompt


def test_the_history_reaches_the_prompt_without_its_citation_marks(pipe: Pipeline) -> None:
    from rag_desktop.llm.prompts import build_messages

    messages = build_messages(UNDO, [("zephyr.pdf p. 1", "text")],
                              history=[(FIRST, "Run setup.exe [1] and the wizard [2, 3].")])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == f"Question: {FIRST}"
    assert messages[2]["content"] == "Run setup.exe and the wizard."
    assert messages[3]["content"].endswith(f"Question: {UNDO}")


def test_eval_asks_dialogues_in_order_and_scores_each_turn(session: Session,
                                                           tmp_path: Path) -> None:
    from rag_desktop.evaluation.questions import load_questions
    from rag_desktop.evaluation.results import EvalConfig
    from rag_desktop.evaluation.run import run_evaluation
    from rag_desktop.progress import Cancelled, CancelToken

    qfile = tmp_path / "dialogue.jsonl"
    items = [{"id": "d1", "question": FIRST, "reference_answer": "Run setup.exe.", "pages": [1]},
             {"id": "alone", "question": "How long is the warranty?",
              "reference_answer": "Two years.", "pages": [5]},
             {"id": "d2", "question": UNDO, "reference_answer": "Uninstall it in Settings.",
              "pages": [2], "follow_up_of": "d1"}]
    qfile.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    questions = load_questions(qfile)
    library = session.require_library()
    cfg = EvalConfig(library=library.path, questions=questions, models=[DEFAULT_MODEL_ID],
                     out_dir=tmp_path / "out", max_tokens=12)
    cancel = CancelToken()

    def stop_after_two(row: object) -> None:
        if len(seen) == 2:
            cancel.cancel()

    seen: list[object] = []
    with pytest.raises(Cancelled):
        run_evaluation(cfg, cancel=cancel, session=session,
                       on_row=lambda r: (seen.append(r), stop_after_two(r)))
    # resumed: d1 is not asked again as a row, but d2 still gets its conversation so far
    rows = run_evaluation(replace(cfg, resume=True), session=session)
    assert [r.question_id for r in rows] == ["d1", "alone", "d2"]
    assert all(r.error == "" for r in rows), [r.error for r in rows]
    assert rows[2].page_hit is True and "2" in rows[2].source_pages.split(";")


def test_every_dev_dialogue_turn_has_its_evidence_on_a_reference_page() -> None:
    import unicodedata

    from benchmarks.followups import dialogue_file, dialogue_sets
    from rag_desktop.library.documents import clean_text, read_pdf

    def squash(text: str) -> str:
        return "".join(unicodedata.normalize("NFC", text).split())

    checked = 0
    for devset, _ in dialogue_sets():
        pages = {p.number: squash(p.text) for p in read_pdf(devset.pdf)}
        for line in dialogue_file(devset).read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            needle = squash(clean_text(item["evidence"]))
            assert needle and any(needle in pages[n] for n in item["pages"]), item["id"]
            checked += 1
    assert checked >= 40


def test_the_chat_repl_and_ask_json_continue_a_saved_conversation(pipe: Pipeline,
                                                                  tmp_path: Path) -> None:
    from rag_desktop.chat.service import (
        ChatRepl,
        ask_in_conversation,
        export_conversation,
        list_json,
        turn_json,
    )

    pipe.conversation = ConversationSettings(strategy="prepend")
    out: list[str] = []
    with ConversationStore(tmp_path / "c.sqlite") as store:
        repl = ChatRepl(pipe, store, out.append)
        repl.run([FIRST, "/sources", "/bogus", f"/save {tmp_path / 'chat.md'}", "/quit",
                  "never asked"])
        text = "".join(out)
        assert "[1] zephyr.pdf p. 1" in text and "unknown command /bogus" in text
        assert (tmp_path / "chat.md").read_text(encoding="utf-8").startswith(f"# {FIRST}")
        assert repl.conversation_id is not None
        cid, turn = ask_in_conversation(pipe, store, UNDO, repl.conversation_id[:8])
        doc = turn_json(cid, turn)
        assert cid == repl.conversation_id and doc["query"] == prepend(FIRST, UNDO)
        assert doc["conversation"] == cid and doc["answer"] == turn.answer.text
        assert [c["n_turns"] for c in list_json(store)] == [2]
        csv_text = export_conversation(store, cid[:6], "csv", tmp_path / "c.csv")
        import csv
        import io

        assert [row[0] for row in csv.reader(io.StringIO(csv_text))][1:] == [FIRST, UNDO]
        assert (tmp_path / "c.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_the_default_strategy_keeps_an_elliptical_follow_up_past_the_gate(
        pipe: Pipeline) -> None:
    assert ConversationSettings().strategy == "none+sources"  # measured: docs/retrieval.md
    windows = "what about on Windows?"
    assert pipe.ask(windows).refused  # alone it is about nothing in this manual
    first = first_turn(pipe)
    turn = pipe.ask_turn(windows, [first])
    assert turn.query == windows and turn.strategy == "none+sources"
    assert not turn.answer.refused and turn.answer.timings.completion_tokens > 0
    # the previous turn's best page stays among the candidates of the follow-up
    assert INSTALL_PAGE in [s.page for s in turn.answer.sources]


def test_regenerate_asks_a_turn_again_with_another_model_and_keeps_the_first_answer(
        session: Session, tmp_path: Path) -> None:
    from rag_desktop.chat.service import ask_in_conversation, regenerate_turn

    pipe = session.pipeline(use_cache=False)
    with ConversationStore(tmp_path / "c.sqlite") as store:
        cid, first = ask_in_conversation(pipe, store, FIRST)
        ask_in_conversation(pipe, store, UNDO, cid)
        with session.keeping_model():
            session.load_model("gemma3-270m-q4_k_m")
            again = regenerate_turn(pipe, store, cid, 2)
        with pytest.raises(ValueError, match="no turn 3"):
            regenerate_turn(pipe, store, cid, 3)
    with ConversationStore(tmp_path / "c.sqlite") as reopened:  # as after a restart
        turns = reopened.get(cid).turns
    assert len(turns) == 2 and turns[0] == first and turns[1] == again
    assert again.question == UNDO and again.answer.model.id == "gemma3-270m-q4_k_m"
    assert [a.model.id for a in again.earlier] == [DEFAULT_MODEL_ID]
    # asked with the first turn before it: the kept sources still bring the install page
    assert INSTALL_PAGE in [s.page for s in again.answer.sources]
    assert session.llm.info is not None and session.llm.info.id == DEFAULT_MODEL_ID
