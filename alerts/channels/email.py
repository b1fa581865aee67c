"""Alerts by e-mail: plain text and HTML, in the subscriber's language.

The SMTP server is given as a URL: ``smtp://`` (plain, port 25),
``smtps://`` (implicit TLS, 465) or ``smtp+starttls://`` (STARTTLS, 587),
with an optional percent-encoded ``user:password@``. Certificates are
verified. Each send opens its own connection. The ``Message-ID`` comes from
the delivery id, so every retry of a delivery is the same message to the
receiving side. A 5xx refusal of the recipient is permanent; every other
failure (no connection, 4xx, timeouts, a refused login) is worth retrying.

The words around an alert live in ``alerts/templates/email.toml`` and the
layout in ``alerts/templates/email_*``; the alert's own wording comes from
its ``texts`` (see :mod:`alerts.texts`). This module draws no molecules: the
application hands in ``depict``, a function from SMILES to PNG bytes.

>>> parse_smtp_url("smtp+starttls://alerts%40example.org:s%3Acret@mail.example.org")
SmtpConfig(host='mail.example.org', port=587, security='starttls', username='alerts@example.org')
>>> parse_smtp_url("smtps://mail.example.org").port
465
>>> parse_smtp_url("imap://mail.example.org")
Traceback (most recent call last):
...
ValueError: SMTP URL scheme 'imap' is not accepted; use smtp://host[:port] (plain, port 25), smtps://host[:port] (implicit TLS, port 465) or smtp+starttls://host[:port] (STARTTLS, port 587), with an optional user:password@ before the host
"""

from __future__ import annotations

import re
import smtplib
import ssl
import struct
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from importlib import resources
from urllib.parse import unquote, urljoin, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from alerts.channels.base import OutboundMessage, Outcome
from alerts.texts import LANGUAGES, class_label, country_name

Depict = Callable[[str], bytes | None]

SCHEMES = {"smtp": ("plain", 25), "smtps": ("tls", 465), "smtp+starttls": ("starttls", 587)}
"""URL scheme -> (connection security, default port)."""
ACCEPTED = (
    "use smtp://host[:port] (plain, port 25), smtps://host[:port] (implicit TLS, port 465) or "
    "smtp+starttls://host[:port] (STARTTLS, port 587), with an optional user:password@ before the host"
)
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


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # plain | tls (implicit, SMTPS) | starttls
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str) -> SmtpConfig:
    """The server, port, security and credentials of an ``smtp://``, ``smtps://`` or ``smtp+starttls://`` URL."""
    parts = urlsplit((url or "").strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"SMTP URL scheme {scheme or '(none)'!r} is not accepted; {ACCEPTED}")
    security, default_port = SCHEMES[scheme]
    if not parts.hostname:
        raise ValueError(f"SMTP URL has no host; {ACCEPTED}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"SMTP URL for {parts.hostname} has a path, query or fragment, which mean nothing here; {ACCEPTED}"
        )
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError(
            f"SMTP URL for {parts.hostname} has a port that is not a number from 1 to 65535"
        ) from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ValueError(f"SMTP URL for {parts.hostname} has a password but no user name; give user:password@")
    return SmtpConfig(parts.hostname, port, security, username, password if username else None)


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


# --- sending ---------------------------------------------------------------------------------------


def _recipient(target: str) -> str:
    try:
        address = Address(addr_spec=(target or "").strip())
    except (ValueError, IndexError):
        raise ValueError(f"{target!r} is not an e-mail address; give one like name@example.org") from None
    if not address.username or not address.domain:
        raise ValueError(f"{target!r} is not an e-mail address; give one like name@example.org")
    return address.addr_spec


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class EmailChannel:
    name = "email"

    def __init__(
        self,
        smtp_url: str,
        mail_from: str,
        base_url: str,
        depict: Depict | None = None,
        timeout: float = 15.0,
        tls_context: ssl.SSLContext | None = None,
    ):
        self.config = parse_smtp_url(smtp_url)
        self.mail_from = mail_from
        self.base_url = base_url
        self.depict = depict
        self.timeout = timeout
        self.tls_context = tls_context  # None: the system's trusted CAs, hostname checked

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        context = self.tls_context or ssl.create_default_context()
        if config.security == "tls":
            return smtplib.SMTP_SSL(config.host, config.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(config.host, config.port, timeout=self.timeout)
        if config.security == "starttls":
            try:
                smtp.starttls(context=context)
            except BaseException:
                smtp.close()
                raise
        return smtp

    def send(self, message: OutboundMessage) -> Outcome:
        try:
            recipient = _recipient(message.target)
            mail = build_message(message, self.mail_from, self.base_url, self.depict)
        except ValueError as refused:
            return Outcome(False, error=str(refused)[:500], permanent=True)
        server = f"{self.config.host}:{self.config.port}"
        try:
            with self._connect() as smtp:
                if self.config.username:
                    smtp.login(self.config.username, self.config.password or "")
                smtp.send_message(mail, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as refused:
            code, reply = next(iter(refused.recipients.values()), (0, b""))
            return Outcome(
                False,
                status=code,
                error=f"{server} refused {recipient}: {code} {_reply_text(reply)}"[:500],
                permanent=500 <= code < 600,
            )
        except smtplib.SMTPResponseException as error:
            return Outcome(
                False,
                status=error.smtp_code,
                error=f"{server}: {type(error).__name__} {error.smtp_code} {_reply_text(error.smtp_error)}"[:500],
            )
        except TimeoutError:
            return Outcome(False, error=f"{server}: no answer within {self.timeout:.0f} s")
        except (smtplib.SMTPException, OSError) as error:
            return Outcome(False, error=f"{server}: {type(error).__name__}: {error}"[:500])
        return Outcome(True, status=250)
