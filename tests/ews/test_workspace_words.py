"""Every word the workspace pages use exists in English, Spanish, Portuguese and French."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ews.web  # noqa: F401  (registers every page module's words)
from ews.web.i18n import LANGUAGES, WORDS

TEMPLATES = Path(ews.web.__file__).parent.parent / "templates"
WORKSPACE = (
    "base.html",
    "login.html",
    "error.html",
    "review.html",
    "alert_edit.html",
    "alert.html",
    "submit.html",
    "detections.html",
    "detection.html",
    "upload.html",
    "upload_results.html",
)
USED = re.compile(r"\bt\.([a-z][a-z0-9_]*)|\bt\[\"([a-z0-9_]+)\"\]")


@pytest.mark.parametrize("template", WORKSPACE)
def test_the_words_of_each_page_exist_in_every_language(template):
    text = (TEMPLATES / template).read_text()
    keys = {a or b for a, b in USED.findall(text)} - {"get"}
    assert keys, template
    for lang in LANGUAGES:
        missing = sorted(k for k in keys if k not in WORDS[lang])
        assert missing == [], f"{template} in {lang}"


def test_vocabulary_terms_are_translated():
    for term in (
        "draft",
        "cancelled",
        "Extreme",
        "Immediate",
        "Observed",
        "analog",
        "no_match",
        "similarity",
        "synthetic_cannabinoid",
        "Update",
        "Cancel",
    ):
        names = {WORDS[lang][f"v.{term}"] for lang in LANGUAGES}
        assert all(names), term
    assert WORDS["es"]["v.cancelled"] == "cancelada" and WORDS["fr"]["v.Severe"] == "Grave"


def test_every_sample_form_is_translated():
    """Forms are shown in the page's language ("polvo", not "powder", on a Spanish alert page)."""
    from ews.schemas import SAMPLE_FORMS
    from ews.web.i18n import LANGUAGES, words

    for lang in LANGUAGES:
        table = words(lang)
        for form in SAMPLE_FORMS:
            assert table.get(f"v.{form}"), (lang, form)
    assert words("es")["v.powder"] == "polvo" and words("fr")["v.tablet"] == "comprimé"
