"""Question sets with reference answers: CSV or JSONL files, checked row by row."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A reference answer of exactly this text means: the documents do not hold the answer,
# so the right reply is a refusal (scored correct/incorrect, never by cosine).
NOT_IN_DOCUMENT = "NOT_IN_DOCUMENT"
REQUIRED_COLUMNS = ("id", "question", "reference_answer")


@dataclass(frozen=True)
class Question:
    """One evaluation item; `pages` are 1-based physical page numbers (pypdf index + 1).

    `follow_up_of` is the id of the previous turn of a dialogue (an earlier item of the same
    file), or None for a question that stands alone or starts a dialogue.
    """

    id: str
    question: str
    reference_answer: str
    pages: tuple[int, ...] = ()
    follow_up_of: str | None = None

    @property
    def expects_refusal(self) -> bool:
        """True when the documents do not contain the answer (reference NOT_IN_DOCUMENT)."""
        return expects_refusal(self.reference_answer)


class QuestionFileError(ValueError):
    """A question file that cannot be used; the message reads 'file:line: what is wrong'."""

    def __init__(self, path: Path, line: int, what: str) -> None:
        self.path, self.line, self.what = Path(path), line, what
        super().__init__(f"{Path(path).name}:{line}: {what}")


def expects_refusal(reference_answer: str) -> bool:
    """True for the NOT_IN_DOCUMENT marker (surrounding spaces and case ignored)."""
    return reference_answer.strip().upper() == NOT_IN_DOCUMENT


def load_questions(path: Path) -> list[Question]:
    """Read a .csv (id,question,reference_answer[,pages joined by ;][,follow_up_of]) or .jsonl
    question set.

    Raises QuestionFileError naming the line for a missing column, an empty field, a page that
    is not a positive whole number, a duplicate id, a follow_up_of that is not an earlier
    item's id, bad JSON, a bad encoding or an empty file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise QuestionFileError(path, 1, f"unknown question file type {suffix!r}; use .csv or "
                                ".jsonl (docs/evaluation.md)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QuestionFileError(path, 1, f"cannot read the file: {exc.strerror or exc}") from exc
    text = _decode(path, data)
    if not text.strip():
        raise QuestionFileError(path, 1, "the file is empty; it needs a header and questions")
    questions = _read_csv(path, text) if suffix == ".csv" else _read_jsonl(path, text)
    if not questions:
        raise QuestionFileError(path, 2, "the file has no questions")
    return questions


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (a BOM is allowed); a bad byte is reported with its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise QuestionFileError(
            path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from exc


def _read_csv(path: Path, text: str) -> list[Question]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        raise QuestionFileError(path, 1, f"unreadable CSV header: {exc}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        found = ", ".join(header) or "nothing"
        raise QuestionFileError(path, 1, f"missing column {', '.join(map(repr, missing))} "
                                f"(found {found}); the columns are id,question,reference_answer"
                                "[,pages][,follow_up_of]")
    questions: list[Question] = []
    seen: set[str] = set()
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise QuestionFileError(path, line, f"unreadable CSV row: {exc}") from exc
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != len(header):
            raise QuestionFileError(path, line, f"{len(row)} fields, the header has {len(header)}")
        record = dict(zip(header, row, strict=True))
        pages = _csv_pages(path, line, record.get("pages", ""))
        questions.append(_make(path, line, record, pages, seen))
    return questions


def _csv_pages(path: Path, line: int, cell: str) -> tuple[int, ...]:
    parts = [p.strip() for p in cell.split(";") if p.strip()]
    return tuple(_page(path, line, p) for p in parts)


def _page(path: Path, line: int, value: Any) -> int:
    """A positive page number from an int or a string of digits."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise QuestionFileError(path, line, f"page {value!r} is not a number")
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise QuestionFileError(path, line, f"page {value!r} is not a number")
        value = int(value.strip())
    if value < 1:
        raise QuestionFileError(path, line, f"page {value} is not a page number (pages start at 1)")
    return value


def _read_jsonl(path: Path, text: str) -> list[Question]:
    questions: list[Question] = []
    seen: set[str] = set()
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise QuestionFileError(path, line, f"not valid JSON: {exc.msg}") from exc
        if not isinstance(record, dict):
            raise QuestionFileError(path, line, "each line must be a JSON object")
        missing = [c for c in REQUIRED_COLUMNS if c not in record]
        if missing:
            raise QuestionFileError(path, line, f"missing field {', '.join(map(repr, missing))}")
        raw_pages = record.get("pages") or []
        if not isinstance(raw_pages, list):
            raw_pages = [raw_pages]
        pages = tuple(_page(path, line, p) for p in raw_pages)
        questions.append(_make(path, line, record, pages, seen))
    return questions


def _make(path: Path, line: int, record: dict[str, Any], pages: tuple[int, ...],
          seen: set[str]) -> Question:
    """Check the text fields of one record and build its Question."""
    values: dict[str, str] = {}
    for name in REQUIRED_COLUMNS:
        value = record.get(name)
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise QuestionFileError(path, line, f"{name} must be text")
        values[name] = str(value).strip()
        if not values[name]:
            raise QuestionFileError(path, line, f"empty {name}")
    if values["id"] in seen:
        raise QuestionFileError(path, line, f"duplicate id {values['id']!r}")
    follow_up_of = _follow_up_of(path, line, record.get("follow_up_of"), seen)
    seen.add(values["id"])
    return Question(values["id"], values["question"], values["reference_answer"], pages,
                    follow_up_of)


def _follow_up_of(path: Path, line: int, value: Any, seen: set[str]) -> str | None:
    """The previous turn's id (None when absent or empty); it must be an earlier item's id,
    so that a dialogue is asked in file order."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise QuestionFileError(path, line, "follow_up_of must be the id of an earlier question")
    ref = str(value).strip()
    if ref not in seen:
        raise QuestionFileError(path, line, f"follow_up_of {ref!r} is not the id of an earlier "
                                "question in this file")
    return ref


def dialogue(questions: list[Question], question: Question) -> list[Question]:
    """The earlier turns of `question`'s dialogue, oldest first (empty for a first turn)."""
    by_id = {q.id: q for q in questions}
    chain: list[Question] = []
    ref = question.follow_up_of
    while ref is not None and ref in by_id and len(chain) < len(questions):
        chain.insert(0, by_id[ref])
        ref = by_id[ref].follow_up_of
    return chain
