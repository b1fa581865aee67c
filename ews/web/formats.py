"""Numbers, dates and drug classes in the page's language.

The four page languages write numbers and dates their own way (1,234.5 in
English; 1.234,5 in Spanish and Portuguese; 1 234,5 in French). Browser-side
charts use the browser's ``Intl`` with the page's ``lang``; server-rendered
text goes through these functions, so both agree.

>>> number(1234.5, "en"), number(1234.5, "es"), number(1234.5, "fr"), number(12, "pt")
('1,234.5', '1.234,5', '1\\u202f234,5', '12')
>>> day(date(2026, 3, 9), "en"), day(date(2026, 3, 9), "es"), day(date(2026, 3, 9), "fr")
('9 Mar 2026', '9 mar 2026', '9 mars 2026')
>>> month("2026-03", "pt")
'mar 2026'
>>> drug_class("synthetic_cannabinoid", "es")
'cannabinoide sintético'
"""

from __future__ import annotations

from datetime import date, datetime

from chem.classes import CLASSES
from ews.web import format as fmt

CLASS_NAMES: dict[str, dict[str, str]] = {
    "opioid": {"en": "opioid", "es": "opioide", "pt": "opioide", "fr": "opioïde"},
    "synthetic_cannabinoid": {
        "en": "synthetic cannabinoid",
        "es": "cannabinoide sintético",
        "pt": "canabinoide sintético",
        "fr": "cannabinoïde de synthèse",
    },
    "cannabinoid": {"en": "cannabinoid", "es": "cannabinoide", "pt": "canabinoide", "fr": "cannabinoïde"},
    "cathinone": {"en": "cathinone", "es": "catinona", "pt": "catinona", "fr": "cathinone"},
    "phenethylamine": {"en": "phenethylamine", "es": "fenetilamina", "pt": "fenetilamina", "fr": "phénéthylamine"},
    "arylalkylamine": {
        "en": "arylalkylamine",
        "es": "arilalquilamina",
        "pt": "arilalquilamina",
        "fr": "arylalkylamine",
    },
    "tryptamine": {"en": "tryptamine", "es": "triptamina", "pt": "triptamina", "fr": "tryptamine"},
    "lysergamide": {"en": "lysergamide", "es": "lisergamida", "pt": "lisergamida", "fr": "lysergamide"},
    "arylcyclohexylamine": {
        "en": "arylcyclohexylamine",
        "es": "arilciclohexilamina",
        "pt": "arilciclohexilamina",
        "fr": "arylcyclohexylamine",
    },
    "benzodiazepine": {
        "en": "benzodiazepine",
        "es": "benzodiazepina",
        "pt": "benzodiazepina",
        "fr": "benzodiazépine",
    },
    "piperazine": {"en": "piperazine", "es": "piperazina", "pt": "piperazina", "fr": "pipérazine"},
    "piperidine_pyrrolidine": {
        "en": "piperidine or pyrrolidine",
        "es": "piperidina o pirrolidina",
        "pt": "piperidina ou pirrolidina",
        "fr": "pipéridine ou pyrrolidine",
    },
    "aminoindane": {"en": "aminoindane", "es": "aminoindano", "pt": "aminoindano", "fr": "aminoindane"},
    "stimulant": {"en": "stimulant", "es": "estimulante", "pt": "estimulante", "fr": "stimulant"},
    "sedative": {"en": "sedative", "es": "sedante", "pt": "sedativo", "fr": "sédatif"},
    "other": {"en": "other", "es": "otra", "pt": "outra", "fr": "autre"},
    "unclassified": {"en": "unclassified", "es": "sin clasificar", "pt": "não classificada", "fr": "non classée"},
}
assert CLASS_NAMES.keys() >= CLASSES, "every drug class needs its names"


def number(value: float | int | None, lang: str, digits: int = 1) -> str:
    """``value`` with the language's separators (ews.web.format); whole numbers without decimals; '—' for None."""
    return "—" if value is None else fmt.number(value, lang, digits)


def day(value: date | datetime | None, lang: str) -> str:
    return "—" if value is None else fmt.day(value, lang)


def month(value: str, lang: str) -> str:
    """A ``YYYY-MM`` month as the language writes it."""
    return fmt.month(value, lang)


def moment(value: datetime, lang: str) -> str:
    return fmt.moment(value, lang)


def drug_class(value: str | None, lang: str) -> str:
    if not value:
        return "—"
    names = CLASS_NAMES.get(value)
    return names.get(lang, names["en"]) if names else value
