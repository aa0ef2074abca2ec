"""`make screenshots` refuses a busy machine: its timings would mislead a newcomer."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_desktop.gui import screenshots


def test_a_busy_machine_is_refused_unless_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(screenshots.os, "getloadavg", lambda: (9.5, 9.0, 8.0))
    assert screenshots.main([str(tmp_path / "shots")]) == 2
    assert not (tmp_path / "shots").exists()
    assert "load average is 9.50" in capsys.readouterr().err


def test_captions_record_the_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screenshots.os, "getloadavg", lambda: (0.4, 0.5, 0.6))
    screenshots._write_captions(tmp_path, 0.25)
    text = (tmp_path / "CAPTIONS.md").read_text(encoding="utf-8")
    assert "load average 0.25 before, 0.40 after" in text
