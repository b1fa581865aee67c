"""E-mail alerts through a real SMTP server on 127.0.0.1 (aiosmtpd): content, languages, failures."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import ssl
import string
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.channels.base import OutboundMessage
from alerts.channels.email import EmailChannel, SmtpConfig, parse_smtp_url
from alerts.mail import _strings, build_message
from alerts.texts import LANGUAGES, all_texts
from chem.depict import png
from tests.support import WAIT, free_port

BASE_URL = "https://ews.example.org"
MAIL_FROM = "ews <alerts@ews.example.org>"
PROTONITAZEPYNE = "CCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCC2)cc1"
HOSTILE = "<script>alert(1)</script>"


# --- a real SMTP server ------------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps what it receives, or refuses every recipient with ``refuse``."""

    def __init__(self, refuse: str | None = None):
        self.refuse = refuse
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(content, policy=email.policy.default) for _, _, content in self.received]


@contextmanager
def smtp_server(mailbox: Mailbox | None = None, **options) -> Iterator[tuple[int, Mailbox]]:
    mailbox = mailbox or Mailbox()
    # aiosmtpd's default 5 s to come up is too short for a loaded machine
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), ready_timeout=WAIT, **options)
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


@pytest.fixture
def server() -> Iterator[tuple[int, Mailbox]]:
    with smtp_server() as running:
        yield running


def channel(port: int, scheme: str = "smtp", credentials: str = "", **options) -> EmailChannel:
    return EmailChannel(f"{scheme}://{credentials}127.0.0.1:{port}", MAIL_FROM, BASE_URL, **options)


# --- messages --------------------------------------------------------------------------------------


def alert_data(name: str = "N-pyrrolidino protonitazene", msg_type: str = "Alert", **overrides) -> dict:
    facts = {
        "substance_name": name,
        "drug_class": "opioid",
        "country": "CO",
        "region": "Antioquia",
        "nearest": "protonitazene",
        "verdict": "analog",
        "formula": "C23H28N4O3",
        "seized_on": "2026-11-20",
    }
    texts = all_texts("new_substance", facts)
    data = {
        "id": "al0001",
        "version": 1 if msg_type == "Alert" else 2,
        "msg_type": msg_type,
        "status": "Actual",
        "scope": "Public",
        "rule": "new_substance",
        "severity": "Extreme",
        "urgency": "Immediate",
        "certainty": "Observed",
        "category": "Health",
        **texts["en"],
        "texts": texts,
        "substance": {
            "id": "sub1",
            "name": name,
            "smiles": PROTONITAZEPYNE,
            "inchikey": "ZTTYSEKIFDYWAO-UHFFFAOYSA-N",
            "formula": "C23H28N4O3",
            "class": "opioid",
            "verdict": "analog",
            "high_harm": True,
        },
        "countries": ["CO"],
        "regions": [{"country": "CO", "region": "Antioquia"}],
        "detection_count": 1,
        "detections": [
            {
                "id": "det1",
                "country": "CO",
                "region": "Antioquia",
                "seized_on": "2026-11-20",
                "form": "powder",
                "sold_as": "heroin",
            }
        ],
        "created_at": "2026-11-25T10:00:00+00:00",
        "published_at": "2026-11-25T10:00:00+00:00",
        "links": {"web": "/alerts/al0001", "api": "/api/v1/alerts/al0001", "cap": "/alerts/al0001.cap"},
    }
    return {**data, **overrides}


def alert_message(language: str = "en", delivery_id: str = "dlv0001", data: dict | None = None) -> OutboundMessage:
    data = data or alert_data()
    event_type = {"Alert": "alert.published", "Update": "alert.updated", "Cancel": "alert.cancelled"}[
        data["msg_type"]
    ]
    return OutboundMessage(
        id=delivery_id,
        kind="alert",
        event_type=event_type,
        target="analyst@health.example.org",
        payload={"type": event_type, "timestamp": "2026-11-25T10:00:00+00:00", "data": data},
        language=language,
    )


def digest_message(language: str = "en") -> OutboundMessage:
    second = alert_data(name="bromazolam", id="al0002", severity="Severe", countries=["PE", "BO"])
    second["links"] = {"web": "https://ews.example.org/alerts/al0002"}
    return OutboundMessage(
        id="dlv0100",
        kind="digest",
        event_type="alert.digest",
        target="analyst@health.example.org",
        payload={
            "type": "alert.digest",
            "timestamp": "2026-11-26T06:00:00+00:00",
            "data": {"period": "daily", "alerts": [alert_data(), second]},
        },
        language=language,
    )


def notice_message(language: str = "en") -> OutboundMessage:
    return OutboundMessage(
        id="dlv0200",
        kind="notice",
        event_type="subscription.disabled",
        target="owner@lab.example.org",
        payload={
            "type": "subscription.disabled",
            "timestamp": "2026-11-26T06:00:00+00:00",
            "data": {
                "subscription_id": "sub-7f3c",
                "url": "https://hooks.lab.example.org/ews",
                "reason": "HTTP 500 on every attempt for 5 days",
                "failing_since": "2026-11-21T06:00:00+00:00",
            },
        },
        language=language,
    )


def send_and_receive(message: OutboundMessage, port: int, mailbox: Mailbox, **options) -> EmailMessage:
    outcome = channel(port, **options).send(message)
    assert outcome.delivered, outcome.error
    return mailbox.messages()[-1]


def body(mail: EmailMessage, subtype: str) -> str:
    part = mail.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content()


def text_of(mail: EmailMessage) -> str:
    return body(mail, "plain")


def html_of(mail: EmailMessage) -> str:
    return body(mail, "html")


# --- alerts ----------------------------------------------------------------------------------------


def test_an_alert_arrives_as_text_and_html_with_the_structure_inline(server):
    port, mailbox = server
    mail = send_and_receive(alert_message(), port, mailbox, depict=png)

    sender, recipients, _ = mailbox.received[0]
    assert (sender, recipients) == ("alerts@ews.example.org", ["analyst@health.example.org"])
    assert mail.get_content_type() == "multipart/alternative"
    plain, rich = mail.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert rich.get_content_type() == "multipart/related"
    assert [part.get_content_type() for part in rich.get_payload()] == ["text/html", "image/png"]

    image = rich.get_payload()[1]
    drawing = image.get_content()
    assert drawing == png(PROTONITAZEPYNE)
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_of(mail)

    assert mail["Subject"] == (
        "[ews] Extreme: New substance detected: N-pyrrolidino protonitazene (opioid), Antioquia, Colombia"
    )
    assert mail["From"] == MAIL_FROM and mail["To"] == "analyst@health.example.org"
    assert mail["Message-ID"] == "<dlv0001@ews.example.org>"
    assert mail["Date"].datetime is not None
    assert mail["Auto-Submitted"] == "auto-generated"
    for part in (text_of(mail), html_of(mail)):
        for expected in (
            "Severity",
            "Extreme",
            "Immediate",
            "Observed",
            "C23H28N4O3",
            "opioid",
            "ZTTYSEKIFDYWAO-UHFFFAOYSA-N",
            "Colombia",
            "https://ews.example.org/alerts/al0001",
            "View the alert",
            "naloxone",
        ):
            assert expected in part, expected
    assert 'href="https://ews.example.org/alerts/al0001"' in html_of(mail)


def test_a_spanish_alert_is_in_spanish(server):
    port, mailbox = server
    mail = send_and_receive(alert_message("es"), port, mailbox, depict=png)
    spanish_headline = "Nueva sustancia detectada: N-pyrrolidino protonitazene (opioide), Antioquia, Colombia"

    assert mail["Subject"] == f"[ews] Extrema: {spanish_headline}"
    assert mail["Content-Language"] == "es"
    for part in (text_of(mail), html_of(mail)):
        assert spanish_headline in part
        for expected in (
            "Gravedad",
            "Extrema",
            "Urgencia",
            "Inmediata",
            "Sustancia",
            "Países",
            "Ver la alerta",
            "naloxona",
            "polvo",
            "Enviado por el sistema de alerta temprana",
        ):
            assert expected in part, expected
        for english in ("New substance detected", "Severity", "View the alert", "naloxone"):
            assert english not in part, english
    assert '<html lang="es">' in html_of(mail)


def test_french_puts_a_no_break_space_before_the_colon():
    mail = build_message(alert_message("fr"), MAIL_FROM, BASE_URL, None)
    assert mail["Subject"].startswith("[ews] Extrême\u00a0: Nouvelle substance détectée")
    assert "Gravité\u00a0: Extrême" in text_of(mail)


def test_an_unknown_language_falls_back_to_english():
    mail = build_message(alert_message("de"), MAIL_FROM, BASE_URL, None)
    assert "Severity: Extreme" in text_of(mail)
    assert mail["Content-Language"] == "en"


def test_english_fields_serve_when_the_alert_has_no_texts_in_the_language():
    data = alert_data()
    data["texts"] = {"en": data["texts"]["en"]}
    mail = build_message(alert_message("pt", data=data), MAIL_FROM, BASE_URL, None)
    assert "New substance detected: N-pyrrolidino protonitazene" in text_of(mail)
    assert "Gravidade: Extrema" in text_of(mail)


def test_a_hostile_substance_name_is_escaped_in_html_and_cannot_add_headers(server):
    port, mailbox = server
    name = f"{HOSTILE}\r\nBcc: victim@example.org"
    mail = send_and_receive(alert_message(data=alert_data(name=name)), port, mailbox, depict=png)

    html = html_of(mail)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert mail["Bcc"] is None
    assert mailbox.received[0][1] == ["analyst@health.example.org"]
    assert "\n" not in mail["Subject"] and HOSTILE in mail["Subject"]
    assert HOSTILE in text_of(mail)  # plain text is shown as it is


def test_message_id_is_stable_across_retries_and_differs_between_deliveries(server):
    port, mailbox = server
    first = alert_message(delivery_id="dlv0042")
    for message in (first, replace(first, attempt=2), alert_message(delivery_id="dlv0043")):
        assert channel(port).send(message).delivered
    ids = [mail["Message-ID"] for mail in mailbox.messages()]
    assert ids[0] == ids[1] == "<dlv0042@ews.example.org>"
    assert ids[2] == "<dlv0043@ews.example.org>"


@pytest.mark.parametrize(
    ("language", "msg_type", "banner", "note"),
    [
        ("en", "Update", "Alert updated", "updates an earlier alert"),
        ("es", "Update", "Alerta actualizada", "actualiza una alerta anterior"),
        ("en", "Cancel", "Alert cancelled", "has been withdrawn"),
        ("pt", "Cancel", "Alerta cancelado", "foi retirado"),
    ],
)
def test_an_update_or_a_cancel_says_so_first(server, language, msg_type, banner, note):
    port, mailbox = server
    mail = send_and_receive(alert_message(language, data=alert_data(msg_type=msg_type)), port, mailbox)
    assert mail["Subject"].startswith(f"[ews] {banner} – ")
    assert text_of(mail).startswith(banner.upper())
    assert note in text_of(mail) and note in html_of(mail)
    assert html_of(mail).index(banner) < html_of(mail).index("<h1")


def test_a_plain_alert_carries_no_update_banner():
    mail = build_message(alert_message(), MAIL_FROM, BASE_URL, None)
    assert "Alert updated" not in text_of(mail) and "Alert cancelled" not in text_of(mail)


def failing_depict(smiles: str) -> bytes:
    raise RuntimeError("no Cairo here")


@pytest.mark.parametrize("depict", [None, lambda smiles: None, failing_depict, lambda smiles: b"not a png"])
def test_without_a_drawing_the_message_goes_without_the_image(server, depict):
    port, mailbox = server
    mail = send_and_receive(alert_message(), port, mailbox, depict=depict)
    assert [part.get_content_type() for part in mail.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    assert "cid:" not in html_of(mail)
    assert "N-pyrrolidino protonitazene" in html_of(mail)


def test_only_web_links_are_linked():
    data = alert_data(links={"web": "javascript:alert(1)"})
    mail = build_message(alert_message(data=data), MAIL_FROM, BASE_URL, None)
    assert "javascript:" not in html_of(mail) and "View the alert" not in text_of(mail)


# --- digests and notices ---------------------------------------------------------------------------


def test_a_digest_lists_every_alert(server):
    port, mailbox = server
    mail = send_and_receive(digest_message(), port, mailbox)
    assert mail["Subject"] == "[ews] Daily digest: 2 alerts"
    assert mail.get_content_type() == "multipart/alternative"
    for part in (text_of(mail), html_of(mail)):
        assert "New substance detected: N-pyrrolidino protonitazene" in part
        assert "New substance detected: bromazolam" in part
        assert "Extreme" in part and "Severe" in part
        assert "Peru, Bolivia" in part
        assert "https://ews.example.org/alerts/al0001" in part
        assert "https://ews.example.org/alerts/al0002" in part


def test_a_spanish_digest_is_in_spanish(server):
    port, mailbox = server
    mail = send_and_receive(digest_message("es"), port, mailbox)
    assert mail["Subject"] == "[ews] Resumen diario: 2 alertas"
    for part in (text_of(mail), html_of(mail)):
        assert "Alertas publicadas o modificadas desde el resumen anterior" in part
        assert "Nueva sustancia detectada: bromazolam (opioide), Antioquia, Colombia" in part
        assert "Grave" in part and "Perú, Bolivia" in part and "Ver la alerta" in part


def test_a_digest_of_one_alert_is_singular():
    message = digest_message("fr")
    one = replace(message, payload={**message.payload, "data": {"period": "weekly", "alerts": [alert_data()]}})
    assert build_message(one, MAIL_FROM, BASE_URL, None)["Subject"] == "[ews] Résumé hebdomadaire\u00a0: 1 alerte"


@pytest.mark.parametrize(
    ("language", "title", "sentence"),
    [
        ("en", "Webhook subscription disabled", "has been disabled because its endpoint kept failing"),
        ("es", "Suscripción de webhook desactivada", "ha sido desactivada porque su destino fallaba"),
    ],
)
def test_a_notice_tells_the_owner_why_the_webhook_was_disabled(server, language, title, sentence):
    port, mailbox = server
    mail = send_and_receive(notice_message(language), port, mailbox)
    assert mail["Subject"] == f"[ews] {title}"
    assert mailbox.received[0][1] == ["owner@lab.example.org"]
    for part in (text_of(mail), html_of(mail)):
        for expected in (
            title,
            sentence,
            "sub-7f3c",
            "https://hooks.lab.example.org/ews",
            "HTTP 500 on every attempt for 5 days",
            "2026-11-21 06:00 UTC",
        ):
            assert expected in part, expected


def test_an_unknown_kind_is_refused_for_good():
    outcome = EmailChannel("smtp://127.0.0.1:1", MAIL_FROM, BASE_URL).send(replace(alert_message(), kind="sms"))
    assert not outcome.delivered and outcome.permanent
    assert "'sms'" in outcome.error and "alert, digest, notice" in outcome.error


# --- failures --------------------------------------------------------------------------------------


def test_a_recipient_refused_with_550_is_permanent():
    with smtp_server(Mailbox(refuse="550 5.1.1 No such user here")) as (port, mailbox):
        outcome = channel(port).send(alert_message())
    assert not outcome.delivered
    assert outcome.permanent and outcome.status == 550
    assert "No such user here" in outcome.error
    assert mailbox.received == []


def test_a_recipient_refused_with_450_is_worth_retrying():
    with smtp_server(Mailbox(refuse="450 4.2.1 Mailbox busy, try later")) as (port, _):
        outcome = channel(port).send(alert_message())
    assert not outcome.delivered and not outcome.permanent
    assert outcome.status == 450


def test_nothing_listening_is_worth_retrying():
    outcome = channel(free_port()).send(alert_message())
    assert not outcome.delivered and not outcome.permanent
    assert "127.0.0.1" in outcome.error and "Refused" in outcome.error


def test_an_unusable_address_is_refused_without_trying():
    outcome = channel(free_port()).send(replace(alert_message(), target="not an address"))
    assert not outcome.delivered and outcome.permanent
    assert "'not an address' is not an e-mail address" in outcome.error


def test_starttls_required_but_not_offered_is_worth_retrying(server):
    port, mailbox = server
    outcome = channel(port, scheme="smtp+starttls").send(alert_message())
    assert not outcome.delivered and not outcome.permanent
    assert "STARTTLS" in outcome.error
    assert mailbox.received == []


# --- authentication and TLS ------------------------------------------------------------------------


def accept_only(user: str, password: str):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    return authenticator


def test_login_with_percent_encoded_credentials():
    authenticator = accept_only("alerts@ews.example.org", "p@ss:w/rd%")
    with smtp_server(authenticator=authenticator, auth_require_tls=False) as (port, mailbox):
        good = channel(port, credentials="alerts%40ews.example.org:p%40ss%3Aw%2Frd%25@").send(alert_message())
        bad = channel(port, credentials="alerts%40ews.example.org:wrong@").send(alert_message())
    assert good.delivered, good.error
    assert len(mailbox.received) == 1
    assert not bad.delivered and not bad.permanent and bad.status == 535
    assert "wrong" not in bad.error


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_tls(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def test_starttls_is_used_and_the_certificate_checked(certificate):
    trusting = ssl.create_default_context(cafile=certificate[0])
    with smtp_server(tls_context=server_tls(certificate), require_starttls=True) as (port, mailbox):
        trusted = channel(port, scheme="smtp+starttls", tls_context=trusting).send(alert_message())
        untrusted = channel(port, scheme="smtp+starttls").send(alert_message())
        plain = channel(port).send(alert_message())
    assert trusted.delivered, trusted.error
    assert not untrusted.delivered and "CERTIFICATE_VERIFY_FAILED" in untrusted.error
    assert not plain.delivered and plain.status == 530  # the server insists on STARTTLS
    assert len(mailbox.received) == 1


def test_implicit_tls(certificate):
    trusting = ssl.create_default_context(cafile=certificate[0])
    with smtp_server(ssl_context=server_tls(certificate)) as (port, mailbox):
        outcome = channel(port, scheme="smtps", tls_context=trusting).send(notice_message())
    assert outcome.delivered, outcome.error
    assert mailbox.messages()[0]["Subject"] == "[ews] Webhook subscription disabled"


# --- SMTP URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", SmtpConfig("mail.example.org", 25, "plain")),
        ("SMTP://mail.example.org:2525/", SmtpConfig("mail.example.org", 2525, "plain")),
        ("smtps://mail.example.org", SmtpConfig("mail.example.org", 465, "tls")),
        ("smtp+starttls://mail.example.org", SmtpConfig("mail.example.org", 587, "starttls")),
        (
            "smtp+starttls://alerts%40ews.example.org:p%40ss%3Aw%2Frd@mail.example.org:2587",
            SmtpConfig("mail.example.org", 2587, "starttls", "alerts@ews.example.org", "p@ss:w/rd"),
        ),
        ("smtp://relay@[::1]:2525", SmtpConfig("::1", 2525, "plain", "relay", None)),
    ],
)
def test_parse_smtp_url(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        (
            "https://mail.example.org",
            "scheme 'https' is not accepted; use smtp://host[:port] (plain, port 25), "
            "smtps://host[:port] (implicit TLS, port 465) or smtp+starttls://host[:port] (STARTTLS, port 587)",
        ),
        ("mail.example.org:25", "scheme 'mail.example.org' is not accepted"),
        ("", "scheme '(none)' is not accepted"),
        ("smtp://", "has no host"),
        ("smtp://mail.example.org:99999", "port that is not a number from 1 to 65535"),
        ("smtp://:secret@mail.example.org", "a password but no user name"),
        ("smtp://mail.example.org/?starttls=1", "has a path, query or fragment"),
    ],
)
def test_parse_smtp_url_refuses_what_it_cannot_use(url, complaint):
    with pytest.raises(ValueError, match=re.escape(complaint)):
        parse_smtp_url(url)


def test_the_password_stays_out_of_the_config_repr():
    assert "s3cret" not in repr(parse_smtp_url("smtp://user:s3cret@mail.example.org"))


# --- the wording file ------------------------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _entries(table: dict, path: str = "") -> Iterator[tuple[str, dict]]:
    if all(isinstance(value, str) for value in table.values()):
        yield path, table
        return
    for key, value in table.items():
        yield from _entries(value, f"{path}.{key}".lstrip("."))


def test_every_string_is_written_in_every_language_with_the_same_placeholders():
    entries = list(_entries(_strings()))
    assert len(entries) > 60
    for path, words in entries:
        assert set(words) == set(LANGUAGES), path
        assert all(word.strip() for word in words.values()), path
        assert len({frozenset(_placeholders(word)) for word in words.values()}) == 1, path
