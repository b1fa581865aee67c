"""This node's identity and its signature on federated feed pages.

Each node has an Ed25519 key pair, generated on first use and kept in the
``node_secret`` table with the private half encrypted (ews.keyring). A peer
fetches ``GET /api/v1/node`` (node id, base URL, public key) once, at
``ews peers add``, and pins the key.

Every feed page a node serves carries ``X-EWS-Signature``: a JWS (RFC 7515,
compact, EdDSA) whose claims bind the page to the request that asked for it:
the SHA-256 of the body, the path and query, the puller's one-time
``X-EWS-Nonce``, the signer's node id, and a five-minute validity. The puller
checks all of them against the pinned key: a page altered on the way fails the
digest, a page recorded earlier and played back fails the nonce.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ews.db import session_scope, utcnow
from ews.keyring import keyring_for
from ews.models import NodeSecret

SIGNING_KEY = "signing_key"
SIGNATURE_HEADER = "X-EWS-Signature"
NONCE_HEADER = "X-EWS-Nonce"
ALGORITHM = "EdDSA"
VALIDITY_SECONDS = 300
CLOCK_SKEW_SECONDS = 60


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_text(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key, base64url without padding (the JWK ``x`` member)."""
    return _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_text(text: str) -> Ed25519PublicKey:
    raw = _unb64(text)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class Signer:
    node_id: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> str:
        return public_key_text(self.private_key.public_key())

    def jwk(self) -> dict:
        return {"kty": "OKP", "crv": "Ed25519", "x": self.public_key, "alg": ALGORITHM, "use": "sig"}

    def sign_page(self, body: bytes, target: str, nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.node_id,
            "iat": now,
            "exp": now + VALIDITY_SECONDS,
            "htu": target,
            "sha256": _b64(hashlib.sha256(body).digest()),
            "nonce": nonce,
        }
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM)


_signers: dict[str, Ed25519PrivateKey] = {}
_lock = threading.Lock()


def signing_key(engine: Engine) -> Ed25519PrivateKey:
    """This node's private key: read from the database, or generated and stored on first use."""
    url = engine.url.render_as_string(hide_password=False)
    with _lock:
        if url in _signers:
            return _signers[url]
        keyring = keyring_for(engine)
        with Session(engine) as session:
            row = session.get(NodeSecret, SIGNING_KEY)
            stored = row.value if row is not None else None
        if stored is None:
            key = Ed25519PrivateKey.generate()
            raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            try:
                with session_scope(engine) as session:
                    session.add(
                        NodeSecret(
                            name=SIGNING_KEY,
                            value=keyring.encrypt(_b64(raw)),
                            public=public_key_text(key.public_key()),
                        )
                    )
            except IntegrityError:
                pass  # another process stored its key first: use that one
            with Session(engine) as session:
                row = session.get(NodeSecret, SIGNING_KEY)
                assert row is not None
                stored = row.value
        key = Ed25519PrivateKey.from_private_bytes(_unb64(keyring.decrypt(stored)))
        _signers[url] = key
        return key


def signer(engine: Engine, node_id: str) -> Signer:
    return Signer(node_id, signing_key(engine))


def identity(engine: Engine, node_id: str, base_url: str) -> dict:
    """What ``GET /api/v1/node`` answers: who this node is and how to check its signatures."""
    own = signer(engine, node_id)
    return {
        "node_id": node_id,
        "base_url": base_url,
        "public_key": own.public_key,
        "jwk": own.jwk(),
        "signature": {"header": SIGNATURE_HEADER, "nonce_header": NONCE_HEADER, "algorithm": ALGORITHM},
        "time": utcnow().isoformat(),
    }


class PageRefused(Exception):
    """A federated page whose signature does not hold: tampered, replayed, or from another key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"page refused ({reason}): {detail}")
        self.reason = reason


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def verify_page(
    public_key: str, node_id: str | None, body: bytes, target: str, nonce: str, token: str | None
) -> None:
    """Raise :class:`PageRefused` unless ``token`` signs exactly this body, for this request and nonce."""
    if not token:
        raise PageRefused("unsigned", f"the peer sent no {SIGNATURE_HEADER} header")
    try:
        claims = jwt.decode(
            token,
            public_key_from_text(public_key),
            algorithms=[ALGORITHM],
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["iat", "exp", "sha256", "htu", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise PageRefused("expired", "the page's signature has expired (replayed, or clocks far apart)") from None
    except (jwt.InvalidTokenError, ValueError) as error:
        raise PageRefused("bad_signature", f"the signature does not verify with the pinned key: {error}") from None
    if claims.get("sha256") != _b64(hashlib.sha256(body).digest()):
        raise PageRefused("tampered", "the body differs from what the peer signed")
    if claims.get("nonce") != nonce:
        raise PageRefused("replayed", "the signature answers another request (nonce differs)")
    if claims.get("htu") != target:
        raise PageRefused("replayed", f"the signature is for {claims.get('htu')!r}, not {target!r}")
    if node_id is not None and claims.get("iss") != node_id:
        raise PageRefused("wrong_node", f"signed by node {claims.get('iss')!r}, expected {node_id!r}")
    if claims["iat"] > time.time() + CLOCK_SKEW_SECONDS:
        raise PageRefused("expired", "the signature is dated in the future")
