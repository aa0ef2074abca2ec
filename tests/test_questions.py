"""Question files: the shared dev set loads as is; every kind of bad file names its line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag_desktop.evaluation.questions import (
    NOT_IN_DOCUMENT,
    Question,
    QuestionFileError,
    load_questions,
)
from tests.conftest import EVAL_DIR, dev_questions

HEADER = '"id","question","reference_answer","pages"\n'


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_shared_dev_set_loads_as_is_in_both_formats() -> None:
    jsonl = load_questions(dev_questions())
    assert len(jsonl) == 20 and jsonl[0].id == "lilypond-usage-01" and jsonl[0].pages == (4,)
    csv_file = EVAL_DIR / "lilypond-usage.csv"
    if csv_file.is_file():  # the CSV twin lives only in ../shared
        assert load_questions(csv_file) == jsonl
    assert all(q.question and q.reference_answer and q.pages for q in jsonl)
    assert not any(q.expects_refusal for q in jsonl)


def test_csv_pages_optional_and_joined_by_semicolons(tmp_path: Path) -> None:
    path = _write(tmp_path, "q.csv", "id,question,reference_answer\r\na,Q one?,R one\r\n\r\n"
                  'b,"Q, two?","multi\nline"\r\n')
    assert load_questions(path) == [Question("a", "Q one?", "R one"),
                                    Question("b", "Q, two?", "multi\nline")]
    path = _write(tmp_path, "p.csv", HEADER + '"a","Q?","R"," 3; 5 ;"\n"b","Q2?","R2",""\n')
    assert [q.pages for q in load_questions(path)] == [(3, 5), ()]


def test_jsonl_with_refusal_item_and_extra_fields(tmp_path: Path) -> None:
    lines = [{"id": "x", "question": "Is it there?", "reference_answer": NOT_IN_DOCUMENT},
             {"id": 7, "question": "Q", "reference_answer": "R", "pages": [2, "4"], "note": 1}]
    path = _write(tmp_path, "q.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
    first, second = load_questions(path)
    assert first.expects_refusal and first.pages == ()
    assert second == Question("7", "Q", "R", (2, 4)) and not second.expects_refusal


@pytest.mark.parametrize(
    ("name", "content", "line", "words"),
    [
        ("missing.csv", "id,question\na,Q?\n", 1, "missing column 'reference_answer'"),
        ("empty-q.csv", HEADER + '"a","Q?","R","1"\n"b","  ","R","2"\n', 3, "empty question"),
        ("page.csv", HEADER + '"a","Q?","R","1"\n"b","Q?","R","4;five"\n', 3,
         "page 'five' is not a number"),
        ("zero.csv", HEADER + '"a","Q?","R","0"\n', 2, "pages start at 1"),
        ("fields.csv", HEADER + '"a","Q?","R","1","extra"\n', 2, "5 fields"),
        ("dup.csv", HEADER + '"a","Q?","R","1"\n"a","Q2?","R","1"\n', 3, "duplicate id 'a'"),
        ("empty.csv", "", 1, "empty"),
        ("blank.jsonl", "\n  \n", 1, "empty"),
        ("header-only.csv", HEADER, 2, "no questions"),
        ("bad.jsonl", '{"id":"a","question":"Q","reference_answer":"R"}\n{"id": "b",\n', 2,
         "not valid JSON"),
        ("field.jsonl", '{"id":"a","question":"Q"}\n', 1, "missing field 'reference_answer'"),
        ("page.jsonl", '{"id":"a","question":"Q","reference_answer":"R","pages":[1.5]}\n', 1,
         "is not a number"),
        ("list.jsonl", '["a","Q","R"]\n', 1, "JSON object"),
        ("empty-ref.jsonl", '{"id":"a","question":"Q","reference_answer":""}\n', 1,
         "empty reference_answer"),
    ],
)
def test_bad_files_name_the_line(tmp_path: Path, name: str, content: str, line: int,
                                 words: str) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(QuestionFileError) as info:
        load_questions(path)
    assert str(info.value).startswith(f"{name}:{line}: ")
    assert words in str(info.value)
    assert info.value.line == line


def test_bad_encoding_names_the_line(tmp_path: Path) -> None:
    data = (HEADER + '"a","Q?","R","1"\n').encode() + '"b","caf\xe9?","R","1"\n'.encode("latin-1")
    path = _write(tmp_path, "latin1.csv", data)
    with pytest.raises(QuestionFileError, match=r"^latin1\.csv:3: not valid UTF-8 \(byte 0xe9\)"):
        load_questions(path)


def test_unknown_type_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match=r"q\.txt:1: unknown question file type"):
        load_questions(_write(tmp_path, "q.txt", "x"))
    with pytest.raises(QuestionFileError, match=r"none\.csv:1: cannot read the file"):
        load_questions(tmp_path / "none.csv")


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1).filter(str.strip)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT, st.lists(st.integers(1, 999), max_size=3)),
                min_size=1, max_size=5))
def test_csv_written_by_the_csv_module_round_trips(tmp_path_factory: pytest.TempPathFactory,
                                                   items: list[tuple[str, str, list[int]]]) -> None:
    path = tmp_path_factory.mktemp("rt") / "q.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        writer.writerow(["id", "question", "reference_answer", "pages"])
        for i, (q, r, pages) in enumerate(items):
            writer.writerow([f"q{i}", q, r, ";".join(map(str, pages))])
    loaded = load_questions(path)
    assert loaded == [Question(f"q{i}", q.strip(), r.strip(), tuple(p))
                      for i, (q, r, p) in enumerate(items)]


def test_follow_up_of_links_a_dialogue_in_both_formats(tmp_path: Path) -> None:
    from rag_desktop.evaluation.questions import dialogue

    path = _write(tmp_path, "d.csv", "id,question,reference_answer,pages,follow_up_of\n"
                  "a,How do I install R?,configure,12,\n"
                  "b,and how do I undo that?,make uninstall,14,a\n"
                  "c,what about on Windows?,Control Panel,22, b \n")
    a, b, c = load_questions(path)
    assert (a.follow_up_of, b.follow_up_of, c.follow_up_of) == (None, "a", "b")
    assert dialogue([a, b, c], c) == [a, b] and dialogue([a, b, c], a) == []
    lines = [{"id": 1, "question": "Q", "reference_answer": "R"},
             {"id": 2, "question": "Q2", "reference_answer": "R2", "follow_up_of": 1},
             {"id": 3, "question": "Q3", "reference_answer": "R3", "follow_up_of": ""}]
    path = _write(tmp_path, "d.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    assert [q.follow_up_of for q in load_questions(path)] == [None, "1", None]


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        ('{"id":"a","question":"Q","reference_answer":"R","follow_up_of":"b"}\n'
         '{"id":"b","question":"Q","reference_answer":"R"}\n', 1,
         "follow_up_of 'b' is not the id of an earlier question"),  # a later turn, not earlier
        ('{"id":"a","question":"Q","reference_answer":"R","follow_up_of":"a"}\n', 1,
         "follow_up_of 'a' is not the id"),  # itself
        ('{"id":"a","question":"Q","reference_answer":"R"}\n'
         '{"id":"b","question":"Q","reference_answer":"R","follow_up_of":["a"]}\n', 2,
         "follow_up_of must be the id"),
    ],
)
def test_a_bad_follow_up_of_names_the_line(tmp_path: Path, content: str, line: int,
                                           words: str) -> None:
    with pytest.raises(QuestionFileError) as info:
        load_questions(_write(tmp_path, "bad.jsonl", content))
    assert info.value.line == line and words in str(info.value)


def test_the_follow_up_dev_dialogues_load_and_every_turn_has_pages() -> None:
    from benchmarks.followups import dialogue_sets

    sets = dialogue_sets()
    assert {d.language for d, _ in sets} == {"en", "ko"}
    turns = [q for _, qs in sets for q in qs]
    follow = [q for q in turns if q.follow_up_of]
    assert len(turns) - len(follow) >= 10 and len(follow) >= 10  # >= 10 dialogues
    assert all(q.pages for q in turns)
