"""The wheel works on its own: installed outside the source tree, it lists, ingests and answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag_desktop.llm.catalog import CatalogError, load_catalog
from tests.conftest import REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel (no deps) installed with --target; .venv supplies the dependencies."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(root / "dist"), str(REPO)], check=True, timeout=600)
    wheels = list((root / "dist").glob("rag_desktop-*.whl"))
    assert len(wheels) == 1
    target = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheels[0])], check=True, timeout=600)
    return target


def run(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m rag_desktop ARGS` from `cwd`, importing the installed copy first."""
    env = dict(os.environ, PYTHONPATH=str(target), RAG_DESKTOP_HOME=str(cwd / "home"))
    return subprocess.run([sys.executable, "-m", "rag_desktop", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_installed_wheel_lists_ingests_and_answers(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [sys.executable, "-c", "import rag_desktop, sys; print(rag_desktop.__file__)"],
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(installed)),
        capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(installed)  # not the source tree

    models = run(installed, tmp_path, "models", "--json")
    assert models.returncode == 0, models.stderr
    ids = [m["id"] for m in json.loads(models.stdout)["models"]]
    assert "smollm2-135m-instruct-q4_1" in ids and len(ids) >= 4  # the packaged catalog

    sample = installed / "rag_desktop" / "data" / "sample-manual.pdf"
    assert sample.is_file()
    ingest = run(installed, tmp_path, "ingest", str(sample))
    assert ingest.returncode == 0, ingest.stderr

    ask = run(installed, tmp_path, "ask", "How do I make LilyPond write PNG images?",
              "--max-tokens", "24", "--json")
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert answer["answer"].strip() and answer["sources"]
    assert answer["model"]["id"] == "smollm2-135m-instruct-q4_1"


def test_a_missing_catalog_is_an_error_not_an_empty_list(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="reinstall"):
        load_catalog(tmp_path / "catalog.json", model_dirs=[])
