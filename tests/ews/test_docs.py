"""The README and docs/ are self-contained: every file they name ships in the repository."""

from __future__ import annotations

import re
from pathlib import Path

from ews.services.batches import CSV_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([\w./\-]+\.md|[\w./\-]+/)(?:#[^)]*)?\)")  # [text](docs/running.md#part)
# a file or folder of the repository named in backticks: `chem/data/families.toml`, `docs/running.md`
CODE_PATH = re.compile(r"`((?:chem|tests|ews|docs|bench|migrations|alerts|\.ci)/[\w./\-]*)`")


def named_files(document: Path) -> set[Path]:
    text = document.read_text()
    links = {
        document.parent / m for m in LINK.findall(text) if not m.startswith(("http://", "https://", "mailto:"))
    }
    return links | {ROOT / m for m in CODE_PATH.findall(text)}


def test_every_file_the_documents_name_ships_in_the_repository():
    assert (ROOT / "docs" / "contract.md").is_file()
    missing = []
    for document in DOCUMENTS:
        text = document.read_text()
        assert "../" not in text, f"{document.name} points outside the repository"
        missing += [f"{document.name}: {path}" for path in named_files(document) if not path.exists()]
    assert missing == []
    assert len(named_files(ROOT / "README.md")) >= 5  # the check does look at something


def test_the_batch_page_documents_every_accepted_column():
    text = (ROOT / "docs" / "batches.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for column in CSV_COLUMNS:
        assert f"| `{column}` |" in text
        assert f"`{column}`" in readme
