"""Dates and numbers as the page's language writes them (a small table, no locale database needed).

>>> number(12345.678, "en"), number(12345.678, "es"), number(12345.678, "fr"), number(0.5, "pt", 1)
('12,345.68', '12.345,68', '12\\u202f345,68', '0,5')
>>> from datetime import date
>>> day(date(2026, 11, 20), "en"), day(date(2026, 11, 20), "es"), day(date(2026, 11, 20), "fr")
('20 Nov 2026', '20 nov 2026', '20 nov. 2026')
"""

from __future__ import annotations

from datetime import UTC, date, datetime

MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"],
    "pt": ["jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"],
    "fr": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
}
# (thousands, decimal) separators; French groups with a narrow no-break space
SEPARATORS = {"en": (",", "."), "es": (".", ","), "pt": (".", ","), "fr": ("\u202f", ",")}


def number(value: float | int | None, lang: str, digits: int = 2) -> str:
    if value is None:
        return ""
    thousands, decimal = SEPARATORS.get(lang, SEPARATORS["en"])
    text = f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"
    if isinstance(value, float) and digits:
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def day(value: date | datetime | str | None, lang: str) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
        except ValueError:
            return text
    months = MONTHS.get(lang, MONTHS["en"])
    return f"{value.day} {months[value.month - 1]} {value.year}"


def month(value: str, lang: str) -> str:
    """``2026-11`` as ``Nov 2026`` (``nov 2026``, ``nov. 2026``)."""
    try:
        year, number = (int(part) for part in value.split("-")[:2])
        return f"{MONTHS.get(lang, MONTHS['en'])[number - 1]} {year}"
    except (ValueError, IndexError):
        return value


def moment(value: datetime | str | None, lang: str) -> str:
    """A date and UTC time: ``20 Nov 2026 14:05 UTC``."""
    if not value:
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{day(value, lang)} {value:%H:%M} UTC"
