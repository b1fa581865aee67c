"""The e-mail message for one delivery: plain text and HTML, in the subscriber's language.

The words around an alert live in ``alerts/templates/email.toml`` and the
layout in ``alerts/templates/email_*``; the alert's own wording comes from
its ``texts`` (see :mod:`alerts.texts`). This module draws no molecules: the
application hands in ``depict``, a function from SMILES to PNG bytes. Sending
is :mod:`alerts.channels.email`'s business; nothing here opens a connection.
"""

from __future__ import annotations

import re
import struct
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from importlib import resources
from urllib.parse import urljoin, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from alerts.channels.base import OutboundMessage
from alerts.texts import LANGUAGES, class_label, country_name

Depict = Callable[[str], bytes | None]
MAX_SUBJECT_HEADLINE = 180
"""Characters of the headline kept in the Subject; the body has it whole."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SEVERITY_COLOURS = {
    "Extreme": "#b00020",
    "Severe": "#c0392b",
    "Moderate": "#b9770e",
    "Minor": "#2874a6",
}
UNKNOWN_COLOUR = "#707070"


# --- wording ---------------------------------------------------------------------------------------


@cache
def _strings() -> dict:
    return tomllib.loads(resources.files("alerts").joinpath("templates", "email.toml").read_text("utf-8"))


def _chrome(language: str) -> dict[str, str]:
    """Every label and sentence of the e-mails, in ``language``."""
    return {key: value[language] for key, value in _strings().items() if key not in ("value", "form")}


def _value(code: str | None, language: str) -> str:
    """A CAP severity, urgency or certainty in ``language``; unknown codes are shown as given."""
    words = _strings()["value"].get(code or "Unknown")
    return words[language] if words else str(code)


def _form(form: str | None, language: str) -> str:
    words = _strings()["form"].get(form or "")
    return words[language] if words else (form or "")


def _count_phrase(count: int, chrome: dict[str, str], language: str) -> str:
    singular = count == 1 or (language == "fr" and count == 0)
    return chrome["alerts_one" if singular else "alerts_other"].format(count=count)


# --- pieces of a message ---------------------------------------------------------------------------


def _language(message: OutboundMessage) -> str:
    return message.language if message.language in LANGUAGES else "en"


def _node_host(base_url: str) -> str:
    return urlsplit(base_url).hostname or "ews"


def message_id(delivery_id: str, base_url: str) -> str:
    """The ``Message-ID`` of a delivery: the same on every retry.

    >>> message_id("0f3a9c", "https://ews.example.org")
    '<0f3a9c@ews.example.org>'
    """
    left = re.sub(r"[^A-Za-z0-9_+=-]", "-", delivery_id) or "-"
    return f"<{left}@{_node_host(base_url)}>"


def _link(url: str | None, base_url: str) -> str | None:
    """An absolute http(s) link, or None: a federated alert could carry any scheme."""
    if not url:
        return None
    absolute = urljoin(base_url.rstrip("/") + "/", url)
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _one_line(text: str) -> str:
    """Line breaks and runs of spaces as one space; no-break spaces (French, before a colon) stay."""
    return re.sub(r"[ \t\r\n\v\f\x85\u2028\u2029]+", " ", str(text)).strip()


def _when(value: str | None) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM UTC``; anything else as given."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _alert_words(alert: dict, language: str) -> dict[str, str]:
    """The alert's event, headline, description and instruction in ``language``, else in English."""
    texts = (alert.get("texts") or {}).get(language) or {}
    return {
        key: texts.get(key) or alert.get(key) or "" for key in ("event", "headline", "description", "instruction")
    }


def _banner(alert: dict, event_type: str | None, chrome: dict[str, str]) -> dict | None:
    """The notice an Update or a Cancel carries above everything else."""
    msg_type = alert.get("msg_type")
    if msg_type == "Cancel" or (msg_type is None and event_type == "alert.cancelled"):
        return {"kind": "cancelled", "title": chrome["cancelled"], "note": chrome["cancelled_note"]}
    if msg_type == "Update" or (msg_type is None and event_type == "alert.updated"):
        return {"kind": "updated", "title": chrome["updated"], "note": chrome["updated_note"]}
    return None


def _structure(depict: Depict | None, smiles: str | None) -> bytes | None:
    """PNG bytes of the structure, or None: an e-mail without a picture beats no e-mail."""
    if depict is None or not smiles:
        return None
    try:
        drawing = depict(smiles)
    except Exception:  # noqa: BLE001 - any failure to draw only costs the picture
        return None
    if not isinstance(drawing, bytes) or not drawing.startswith(PNG_SIGNATURE) or len(drawing) < 24:
        return None
    return drawing


def _subject(*parts: str) -> str:
    return "[ews] " + _one_line(" ".join(part for part in parts if part))


def _headline_for_subject(headline: str) -> str:
    headline = _one_line(headline)
    if len(headline) > MAX_SUBJECT_HEADLINE:
        headline = headline[: MAX_SUBJECT_HEADLINE - 1].rstrip() + "…"
    return headline


# --- the three kinds of message ----------------------------------------------------------------


@dataclass
class _Composition:
    subject: str
    template: str  # email_<kind>, rendered as .txt and .html
    context: dict
    image: bytes | None = None
    headers: dict = field(default_factory=dict)


def _compose_alert(message: OutboundMessage, language: str, base_url: str, depict: Depict | None) -> _Composition:
    payload = message.payload or {}
    alert = payload.get("data") or {}
    chrome = _chrome(language)
    words = _alert_words(alert, language)
    substance = alert.get("substance") or {}
    name = substance.get("name") or substance.get("formula") or substance.get("inchikey") or "?"
    banner = _banner(alert, payload.get("type") or message.event_type, chrome)
    severity = alert.get("severity") or "Unknown"
    drawing = _structure(depict, substance.get("smiles"))
    image = None
    if drawing is not None:
        width, height = struct.unpack(">II", drawing[16:24])
        image = {
            "cid": f"structure.{message_id(message.id, base_url)[1:-1]}",
            "alt": chrome["structure"].format(name=name),
            "width": width,
            "height": height,
        }
    regions = [
        ", ".join(part for part in (r.get("region"), country_name(r.get("country"), language)) if part)
        for r in alert.get("regions") or []
    ]
    detections = [
        {
            "place": ", ".join(
                part for part in (d.get("region"), country_name(d.get("country"), language)) if part
            ),
            "seized_on": d.get("seized_on") or "",
            "form": _form(d.get("form"), language),
            "sold_as": d.get("sold_as") or "",
        }
        for d in alert.get("detections") or []
    ]
    context = {
        "banner": banner,
        **words,
        "severity": _value(severity, language),
        "urgency": _value(alert.get("urgency"), language),
        "certainty": _value(alert.get("certainty"), language),
        "colour": SEVERITY_COLOURS.get(severity, UNKNOWN_COLOUR),
        "substance": {
            "name": name,
            "formula": substance.get("formula") or "",
            "label": class_label(substance.get("class"), language),
            "inchikey": substance.get("inchikey") or "",
            "high_harm": bool(substance.get("high_harm")),
        },
        "image": image,
        "countries": [country_name(code, language) for code in alert.get("countries") or []],
        "regions": [region for region in regions if region],
        "detection_count": alert.get("detection_count") or len(detections),
        "version": alert.get("version") or 1,
        "detections": detections,
        "link": _link((alert.get("links") or {}).get("web"), base_url),
    }
    subject = _subject(
        f"{banner['title']} –" if banner else "",
        f"{context['severity']}{chrome['colon']}",
        _headline_for_subject(words["headline"]),
    )
    return _Composition(subject, "email_alert", context, drawing, {"X-EWS-Severity": severity})


def _compose_digest(message: OutboundMessage, language: str, base_url: str, depict: Depict | None) -> _Composition:
    data = (message.payload or {}).get("data") or {}
    chrome = _chrome(language)
    period = data.get("period") if data.get("period") in ("daily", "weekly") else "daily"
    alerts = data.get("alerts") or []
    items = []
    for alert in alerts:
        severity = alert.get("severity") or "Unknown"
        banner = _banner(alert, None, chrome)
        items.append(
            {
                "headline": _alert_words(alert, language)["headline"],
                "severity": _value(severity, language),
                "colour": SEVERITY_COLOURS.get(severity, UNKNOWN_COLOUR),
                "countries": [country_name(code, language) for code in alert.get("countries") or []],
                "link": _link((alert.get("links") or {}).get("web"), base_url),
                "banner": banner["title"] if banner else None,
            }
        )
    title = chrome[f"digest_{period}"]
    context = {"title": title, "intro": chrome["digest_intro"], "items": items}
    subject = _subject(f"{title}{chrome['colon']}", _count_phrase(len(alerts), chrome, language))
    return _Composition(subject, "email_digest", context)


def _compose_notice(message: OutboundMessage, language: str, base_url: str, depict: Depict | None) -> _Composition:
    payload = message.payload or {}
    if payload.get("type", message.event_type) != "subscription.disabled":
        raise ValueError(f"notice type {payload.get('type')!r} is not known; accepted: subscription.disabled")
    data = payload.get("data") or {}
    chrome = _chrome(language)
    rows = [
        (chrome["endpoint"], data.get("url") or ""),
        (chrome["reason"], data.get("reason") or ""),
        (chrome["failing_since"], _when(data.get("failing_since"))),
    ]
    context = {
        "title": chrome["disabled"],
        "body": chrome["disabled_body"].format(subscription_id=data.get("subscription_id") or ""),
        "rows": [(label, value) for label, value in rows if value],
        "action": chrome["disabled_action"],
    }
    return _Composition(_subject(chrome["disabled"]), "email_notice", context)


_COMPOSERS = {"alert": _compose_alert, "digest": _compose_digest, "notice": _compose_notice}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("alerts", "templates"),
        autoescape=select_autoescape(["html"]),  # headlines carry lab-supplied names
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def build_message(message: OutboundMessage, mail_from: str, base_url: str, depict: Depict | None) -> EmailMessage:
    """The e-mail for one delivery: text and HTML alternatives, the structure drawing inline."""
    composer = _COMPOSERS.get(message.kind)
    if composer is None:
        raise ValueError(f"message kind {message.kind!r} is not known; accepted: {', '.join(_COMPOSERS)}")
    language = _language(message)
    composition = composer(message, language, base_url, depict)
    chrome = _chrome(language)
    context = {
        **composition.context,
        "lang": language,
        "t": chrome,
        "subject": composition.subject,
        "footer": chrome["footer"].format(node=base_url.rstrip("/")),
    }
    environment = _environment()
    text = environment.get_template(f"{composition.template}.txt").render(context)
    html = environment.get_template(f"{composition.template}.html").render(context)

    mail = EmailMessage()
    mail["Subject"] = composition.subject
    mail["From"] = mail_from
    mail["To"] = message.target
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id(message.id, base_url)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    mail["X-EWS-Event"] = message.event_type
    for name, value in composition.headers.items():
        mail[name] = value
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    mail["Content-Language"] = language  # after set_content, which drops every Content-* header
    html_part = mail.get_body(("html",))
    if composition.image is not None and html_part is not None:
        html_part.add_related(
            composition.image,
            "image",
            "png",
            cid=f"<{context['image']['cid']}>",
            filename="structure.png",
        )
    return mail
