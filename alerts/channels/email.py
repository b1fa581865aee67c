"""Alerts by e-mail: plain text and HTML, in the subscriber's language.

The SMTP server is given as a URL: ``smtp://`` (plain, port 25),
``smtps://`` (implicit TLS, 465) or ``smtp+starttls://`` (STARTTLS, 587),
with an optional percent-encoded ``user:password@``. Certificates are
verified. Each send opens its own connection. The ``Message-ID`` comes from
the delivery id, so every retry of a delivery is the same message to the
receiving side. A 5xx refusal of the recipient is permanent; every other
failure (no connection, 4xx, timeouts, a refused login) is worth retrying.

The message itself (wording, layout, the structure drawing) is composed by
:mod:`alerts.mail`; this module only sends it.

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

import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from urllib.parse import unquote, urlsplit

from alerts.channels.base import OutboundMessage, Outcome
from alerts.mail import Depict, build_message

SCHEMES = {"smtp": ("plain", 25), "smtps": ("tls", 465), "smtp+starttls": ("starttls", 587)}
"""URL scheme -> (connection security, default port)."""
ACCEPTED = (
    "use smtp://host[:port] (plain, port 25), smtps://host[:port] (implicit TLS, port 465) or "
    "smtp+starttls://host[:port] (STARTTLS, port 587), with an optional user:password@ before the host"
)


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
