"""Numbers, dates and drug classes in each page language (ews/web/formats.py)."""

from __future__ import annotations

import doctest
from datetime import date

from chem.classes import CLASSES
from ews.services import indicators
from ews.web import formats
from ews.web.i18n import LANGUAGES


def test_examples_in_the_docstrings():
    for module in (formats, indicators):
        failures, tried = doctest.testmod(module)
        assert tried and failures == 0, module.__name__


def test_every_class_named_in_every_language():
    for klass in CLASSES:
        names = {lang: formats.drug_class(klass, lang) for lang in LANGUAGES}
        assert all(names.values()) and names["en"], klass
    assert formats.drug_class("benzodiazepine", "fr") == "benzodiazépine"
    assert formats.drug_class(None, "es") == "—"


def test_numbers_and_dates_follow_the_language():
    assert formats.number(1234567, "en") == "1,234,567"
    assert formats.number(1234567, "pt") == "1.234.567"
    assert formats.number(0.25, "es", 2) == "0,25"
    assert formats.number(None, "fr") == "—"
    assert formats.day(date(2026, 8, 1), "fr") == "1 août 2026"
    assert formats.month("2026-12", "es") == "dic 2026"
