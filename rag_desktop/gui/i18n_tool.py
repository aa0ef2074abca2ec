"""The translations' build step: refresh the .ts from the source, fill it, build the .qm.

    python -m rag_desktop.gui.i18n --update   # or: make translations
    python -m rag_desktop.gui.i18n --check    # exit 1 when something is stale or untranslated

translations/ko.json is the reviewed mapping, English source text -> Korean; a key
"Context::source" gives one context its own translation. --update runs pyside6-lupdate over
rag_desktop/gui/**/*.py into translations/rag_desktop_ko.ts (existing translations kept,
vanished strings dropped, no line numbers, so an edit elsewhere in a file changes nothing),
writes ko.json's translations into it, builds rag_desktop_ko.qm with pyside6-lrelease, and
prints each string that still lacks Korean as a JSON line to paste into ko.json. A .ts entry
translated in Qt Linguist and absent from ko.json is kept; lupdate's guesses for a changed
string (type="unfinished") are never shipped.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from rag_desktop.fsutil import atomic_write_bytes
from rag_desktop.gui.files import normal_permissions

GUI = Path(__file__).resolve().parent
TRANSLATIONS = GUI / "translations"
MAPPING = TRANSLATIONS / "ko.json"
TS = TRANSLATIONS / "rag_desktop_ko.ts"
QM = TRANSLATIONS / "rag_desktop_ko.qm"
_PLACEHOLDER = re.compile(r"\{[A-Za-z0-9_]*\}|%n|%\d")

Entry = tuple[str, str, str]  # context, source, translation ("" when it has none)


class ToolError(RuntimeError):
    """lupdate/lrelease missing or failing, or a malformed mapping."""


def qt_tool(name: str) -> str:
    """PySide6's lupdate/lrelease: the binary in its package (what pyside6-NAME runs), else
    pyside6-NAME beside this Python or on PATH."""
    import PySide6

    exe = ".exe" if sys.platform == "win32" else ""
    candidates = [Path(PySide6.__file__).parent / f"{name}{exe}",
                  Path(sys.executable).parent / f"pyside6-{name}{exe}"]
    for path in candidates:
        if path.is_file():
            return str(path)
    found = shutil.which(f"pyside6-{name}")
    if found is None:
        raise ToolError(f"pyside6-{name} not found; install PySide6 (pip install pyside6)")
    return found


def sources(root: Path = GUI) -> list[Path]:
    """Every Python file of the GUI, in a stable order."""
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise ToolError(f"{Path(args[0]).name} failed: {done.stderr or done.stdout}")


def lupdate(ts: Path, files: list[Path]) -> None:
    """Merge the source's strings into `ts` (created when missing)."""
    _run([qt_tool("lupdate"), "-silent", "-locations", "none", "-no-obsolete",
          "-source-language", "en", "-target-language", "ko_KR",
          *map(str, files), "-ts", str(ts)])


def lrelease(ts: Path, qm: Path) -> None:
    """Build the binary .qm that QTranslator loads."""
    _run([qt_tool("lrelease"), "-silent", str(ts), "-qm", str(qm)])


def load_mapping(path: Path = MAPPING) -> dict[str, str]:
    """ko.json: a flat JSON object of strings (never pickle)."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ToolError(f"{path} must be a JSON object of strings")
    return data


def lookup(mapping: dict[str, str], context: str, source: str) -> str:
    """The reviewed translation of `source` in `context`, "" when there is none."""
    return mapping.get(f"{context}::{source}") or mapping.get(source, "")


def read_ts(path: Path) -> ET.Element:
    """A .ts file's root element."""
    return ET.parse(path).getroot()


def _messages(root: ET.Element) -> list[tuple[str, ET.Element]]:
    """(context name, <message>) for every message of a .ts tree."""
    found = []
    for context in root.iter("context"):
        name = context.findtext("name", "")
        found += [(name, m) for m in context.iter("message")]
    return found


def fill(root: ET.Element, mapping: dict[str, str]) -> None:
    """Write the mapping's translations into the .ts tree (numerus: Korean has one form)."""
    for context, message in _messages(root):
        korean = lookup(mapping, context, message.findtext("source", ""))
        translation = message.find("translation")
        if not korean or translation is None:
            continue
        translation.attrib.pop("type", None)
        forms = translation.findall("numerusform")
        if forms:
            forms[0].text = korean
            for extra in forms[1:]:
                translation.remove(extra)
        else:
            translation.text = korean


def entries(root: ET.Element) -> list[Entry]:
    """Every message with its finished translation ("" when unfinished or empty)."""
    found = []
    for context, message in _messages(root):
        translation = message.find("translation")
        text = ""
        if translation is not None and translation.get("type") is None:
            forms = translation.findall("numerusform")
            text = (forms[0].text if forms else translation.text) or ""
        found.append((context, message.findtext("source", ""), text))
    return found


def problems_of(found: list[Entry]) -> list[str]:
    """Strings without Korean, and translations that drop or add a placeholder."""
    problems = []
    for context, source, korean in found:
        if not korean:
            problems.append(f"missing: {json.dumps({source: ''}, ensure_ascii=False)[1:-1]}"
                            f"  (context {context})")
        elif sorted(_PLACEHOLDER.findall(source)) != sorted(_PLACEHOLDER.findall(korean)):
            problems.append(f"placeholders differ: {context}::{source!r} -> {korean!r}")
    return problems


def write_ts(root: ET.Element, path: Path) -> None:
    """The .ts as lupdate and Linguist read it, written atomically."""
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    text = f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n{body}\n'
    atomic_write_bytes(path, text.encode("utf-8"))
    normal_permissions([path])


def refreshed(ts: Path, mapping: dict[str, str], out: Path) -> ET.Element:
    """`ts` merged with the current source and filled from the mapping, written to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if ts.is_file() and ts != out:
        shutil.copyfile(ts, out)
    lupdate(out, sources())
    root = read_ts(out)
    fill(root, mapping)
    write_ts(root, out)
    return root


def update(ts: Path = TS, qm: Path = QM, mapping_file: Path = MAPPING) -> list[str]:
    """Refresh the .ts and build the .qm; the problems left (strings lacking Korean)."""
    root = refreshed(ts, load_mapping(mapping_file), ts)
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / qm.name
        lrelease(ts, built)
        atomic_write_bytes(qm, built.read_bytes())
    normal_permissions([qm])
    return problems_of(entries(root))


def check(ts: Path = TS, qm: Path = QM, mapping_file: Path = MAPPING) -> list[str]:
    """What --update would change or still lack, found in a temp copy (nothing is written)."""
    if not ts.is_file() or not qm.is_file():
        return [f"{ts.name} or {qm.name} is missing: run python -m rag_desktop.gui.i18n --update"]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = entries(refreshed(ts, load_mapping(mapping_file), Path(tmp) / ts.name))
        problems = problems_of(fresh)
        if sorted(fresh) != sorted(entries(read_ts(ts))):
            problems.append(f"{ts.name} is stale: run python -m rag_desktop.gui.i18n --update")
        built = Path(tmp) / qm.name
        lrelease(Path(tmp) / ts.name, built)
        if built.read_bytes() != qm.read_bytes():
            problems.append(f"{qm.name} is stale: run python -m rag_desktop.gui.i18n --update")
    return problems


def main(argv: list[str] | None = None) -> int:
    """The command line: --update (the default) or --check; exit 1 when problems remain."""
    parser = argparse.ArgumentParser(prog="python -m rag_desktop.gui.i18n",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="refresh the .ts, build the .qm")
    parser.add_argument("--check", action="store_true", help="report without writing")
    args = parser.parse_args(argv)
    try:
        problems = check() if args.check else update()
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in problems:
        print(line)
    if not args.check:
        print(f"wrote {TS.relative_to(GUI.parents[1])} and {QM.name}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s); add the missing Korean to {MAPPING.name} and run "
              "--update again", file=sys.stderr)
    return 1 if problems else 0
