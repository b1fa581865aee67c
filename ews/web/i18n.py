"""The languages of the web pages and the words each page module contributes.

Every page module registers its own words with ``add_words`` at import, so
pages grow without editing one shared dictionary. A key missing in a language
falls back to English, so a half-translated page still renders.
"""

from __future__ import annotations

from fastapi import Request

LANGUAGES = ("en", "es", "pt", "fr")
WORDS: dict[str, dict[str, str]] = {code: {} for code in LANGUAGES}


def add_words(words: dict[str, dict[str, str]]) -> None:
    """Register a page module's words; a key registered twice keeps its first meaning."""
    for code, entries in words.items():
        if code not in WORDS:
            raise ValueError(f"unknown page language {code!r}; pages speak {', '.join(LANGUAGES)}")
        for key, text in entries.items():
            WORDS[code].setdefault(key, text)


def words(lang: str) -> dict[str, str]:
    """The words of ``lang``, English where a translation is missing."""
    return {**WORDS["en"], **WORDS[lang]}


LANGUAGE_COOKIE = "ews_lang"
"""The language last chosen with ``?lang=``, so that the form it shows is answered in it too."""


def language(request: Request) -> str:
    """``?lang=`` first, then the one chosen so before (a cookie), then the browser's Accept-Language,
    then English."""
    for wanted in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if wanted in WORDS:
            return wanted
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in WORDS:
            return code
    return "en"
