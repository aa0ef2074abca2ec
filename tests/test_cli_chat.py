"""Conversations on the command line: ask --conversation, conversations, export, and chat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pdfs import make_pdf


def run(*args: str, home: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RAG_DESKTOP_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "rag_desktop", *args], capture_output=True,
                          text=True, env=env, timeout=300, input=stdin)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    pdf = make_pdf(home / "kettle.pdf", [
        "Kettle manual. Fill with water up to the MAX line.",
        "Cleaning. Descale the kettle monthly with vinegar. Rinse twice after descaling."])
    assert run("ingest", str(pdf), home=home).returncode == 0
    return home


def test_ask_saves_a_conversation_that_the_next_ask_continues(home: Path) -> None:
    first = run("ask", "How often should the kettle be descaled?", "--json", "--max-tokens", "12",
                "--no-cache", home=home)
    assert first.returncode == 0, first.stderr
    one = json.loads(first.stdout)
    cid = one["conversation"]
    assert one["query"] == "How often should the kettle be descaled?" and one["sources"]
    second = run("ask", "and what do I do after that?", "--conversation", cid[:8], "--json",
                 "--max-tokens", "12", home=home)
    assert second.returncode == 0, second.stderr
    two = json.loads(second.stdout)
    assert two["conversation"] == cid and two["question"] == "and what do I do after that?"

    listed = json.loads(run("conversations", "--json", home=home).stdout)["conversations"]
    mine = [c for c in listed if c["id"] == cid]
    assert len(mine) == 1 and mine[0]["n_turns"] == 2

    md = run("conversations", "export", cid[:8], "--format", "md", home=home)
    assert md.returncode == 0 and "How often should the kettle be descaled?" in md.stdout
    assert "and what do I do after that?" in md.stdout
    out = home / "conv.csv"
    csv = run("conversations", "export", cid, "--format", "csv", "--output", str(out), home=home)
    assert csv.returncode == 0 and out.read_text(encoding="utf-8-sig").count("\n") >= 3


def test_an_unknown_conversation_is_one_line_and_exit_2(home: Path) -> None:
    r = run("ask", "q", "--conversation", "zzzzzzzz", home=home)
    assert r.returncode == 2 and "zzzzzzzz" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_chat_answers_shows_sources_and_saves(home: Path) -> None:
    before = len(json.loads(run("conversations", "--json", home=home).stdout)["conversations"])
    r = run("chat", "--max-tokens", "8", home=home,
            stdin="Where do I fill the water?\n/sources\n/bogus\n/quit\n")
    assert r.returncode == 0, r.stderr
    assert "kettle.pdf p. 1" in r.stdout and "unknown command /bogus" in r.stdout
    assert "saved" in r.stderr
    after = json.loads(run("conversations", "--json", home=home).stdout)["conversations"]
    assert len(after) == before + 1
