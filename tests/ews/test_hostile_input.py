"""Hostile chemistry is bounded: each request gets a 4xx problem naming the field (or a correct 2xx),
never a 5xx; the server answers other requests while it is in flight; nothing stored is lost.

Outcomes only: no durations are asserted (bench/hostile.py prints them)."""

from __future__ import annotations

import threading
import zlib

import httpx
import pytest

from ews.app import create_app
from tests.conftest import make_actor
from tests.support import WAIT, running

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DETECTION = {
    "sample": {"form": "powder", "seized_on": "2026-11-20", "country": "CO"},
    "components": [{"smiles": "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "name": "caffeine"}],
}

HUGE_SMILES = "C" * 20_000
FULLERENE = (
    "c12c3c4c5c1c1c6c7c2c2c8c3c3c9c4c4c%10c5c5c1c1c6c6c%11c7c2c2c7c8c3c3c8c9c4c4c9c%10c5c5c1c1c6c6c%11"
    "c2c2c7c3c3c8c4c4c9c5c1c1c6c2c3c41"
)


def many_ring_closures(rings: int) -> str:
    """A chain of ``rings`` fused cyclohexanes written with two-digit ring-closure labels."""
    parts = ["C%10CCCC"]
    for i in range(rings):
        label = 10 + (i + 1) % 80
        previous = 10 + i % 80
        parts.append(f"C%{label}C%{previous}CC")
    parts.append(f"C%{10 + rings % 80}")
    return "".join(parts)


def v3000_molfile(atoms: int) -> str:
    lines = ["", "  hostile", "", "  0  0  0     0  0            999 V3000", "M  V30 BEGIN CTAB"]
    lines.append(f"M  V30 COUNTS {atoms} {atoms - 1} 0 0 0")
    lines.append("M  V30 BEGIN ATOM")
    lines += [f"M  V30 {i} C {i * 1.5:.4f} 0 0 0" for i in range(1, atoms + 1)]
    lines += ["M  V30 END ATOM", "M  V30 BEGIN BOND"]
    lines += [f"M  V30 {i} 1 {i} {i + 1}" for i in range(1, atoms)]
    lines += ["M  V30 END BOND", "M  V30 END CTAB", "M  END"]
    return "\n".join(lines) + "\n"


MALFORMED_MOLFILE = "garbage\n  no program\n\n999999  0  0  0  0  0  0  0  0  0999 V2000\nnonsense\nM  END\n"
MALFORMED_SDF = (
    "first\n\n\n  2  1  0  0  0  0  0  0  0  0999 V2000\n"
    "    0.0000    0.0000    0.0000 C   0  0\n"
    "    0.0000    0.0000    0.0000 Q   0  0\n"
    "  1  3  1  0\nM  END\n> <country>\nCO\n\n$$$$\n"
    "second\n\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\n  nonsense without end\n$$$$\n"
)
# SMARTS bombs: recursive queries nested deep, and any-atom/any-bond queries that match everywhere
SMARTS_BOMBS = [
    "[$(" * 40 + "*~*" + ")]" * 40,
    "*~*(~*)(~*)~*(~*)(~*)~*(~*)(~*)~*(~*)(~*)~*(~*)(~*)~*(~*)(~*)~*(~*)(~*)~*(~*)(~*)~*~*~*~*~*~*~*~*",
    "~".join(["[$(*~*~*~*~*~*~*~*),$(*@*@*@*@*@*@*)]"] * 30),
    "*1~*~*~*~*~*~*~*~*~*~*~*~*~*~*~*~*~*~*~*~*~*~*~*~*1",
]


def gzip_bomb(megabytes: int) -> bytes:
    """A gzip stream of a JSON list opened and never closed: ``megabytes`` MB when expanded."""
    chunk = b"[" + b" " * (1024 * 1024 - 1)
    engine = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer
    out = [engine.compress(chunk)]
    blank = b" " * (1024 * 1024)
    out += [engine.compress(blank) for _ in range(megabytes - 1)]
    out.append(engine.flush())
    return b"".join(out)


@pytest.fixture
def server(settings):
    lab = make_actor(settings.database_url, "lab", "CO")
    with (
        running(create_app(settings)) as base,
        httpx.Client(base_url=base, headers=lab.headers, timeout=WAIT) as http,
    ):
        stored = http.post("/api/v1/detections", json=DETECTION)
        assert stored.status_code == 201, stored.text
        yield http, stored.json()


def hostile(http: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response:
    """Send a hostile request from a thread; while it is in flight the server must answer others."""
    answer: dict[str, object] = {}

    def send() -> None:
        try:
            answer["response"] = http.request(method, url, **kwargs)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            answer["error"] = error

    thread = threading.Thread(target=send)
    thread.start()
    health = httpx.get(http.base_url.join("/healthz"), timeout=WAIT)
    assert health.status_code == 200
    thread.join(timeout=2 * WAIT)  # longer than the client waits for its answer
    assert not thread.is_alive(), f"{method} {url} did not answer"
    assert "error" not in answer, answer.get("error")
    response = answer["response"]
    assert isinstance(response, httpx.Response)
    assert response.status_code < 500, response.text[:500]
    return response


def refused(response: httpx.Response, field: str) -> dict:
    assert 400 <= response.status_code < 500, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert field in response.text, body
    return body


def matched(response: httpx.Response, field: str) -> dict:
    """/match answers 200 with a per-structure ``error`` (nothing is stored), or refuses the request."""
    if response.status_code != 200:
        return refused(response, field)
    result = response.json()["results"][0]
    assert "error" in result or "match" in result or "verdict" in result, result
    return result


def still_stored(http: httpx.Client, detection: dict) -> None:
    again = http.get(f"/api/v1/detections/{detection['id']}")
    assert again.status_code == 200
    assert again.json()["components"] == detection["components"]
    assert again.json()["sample"] == detection["sample"]


def test_20_kb_smiles_is_refused_naming_the_field(server):
    http, detection = server
    matched(hostile(http, "POST", "/api/v1/match", json={"smiles": HUGE_SMILES}), "smiles")
    body = {**DETECTION, "components": [{"smiles": HUGE_SMILES, "name": "huge"}]}
    refused(hostile(http, "POST", "/api/v1/detections", json=body), "smiles")
    still_stored(http, detection)


def test_10000_atom_molfile_is_refused(server):
    http, detection = server
    molfile = v3000_molfile(10_000)
    matched(hostile(http, "POST", "/api/v1/match", json={"molfile": molfile}), "molfile")
    body = {**DETECTION, "components": [{"molfile": molfile, "name": "huge"}]}
    refused(hostile(http, "POST", "/api/v1/detections", json=body), "molfile")
    # within the text limit but over the atom limit
    smaller = v3000_molfile(2_000)
    answer = matched(hostile(http, "POST", "/api/v1/match", json={"molfile": smaller}), "molfile")
    assert "heavy atoms" in str(answer) or "characters" in str(answer)
    still_stored(http, detection)


@pytest.mark.parametrize(
    ("smiles", "readable"),
    [(FULLERENE, True), (many_ring_closures(60), True), (many_ring_closures(400), False)],
    ids=["fullerene", "61-ring-ladder", "401-ring-ladder"],
)
def test_pathological_ring_systems_are_answered(server, smiles, readable):
    """Cages and ladders within 250 heavy atoms are identified and stored; larger ones refused by name."""
    http, detection = server
    result = matched(hostile(http, "POST", "/api/v1/match", json={"smiles": smiles}), "smiles")
    assert ("error" not in result) is readable, result
    body = {**DETECTION, "components": [{"smiles": smiles, "name": "cage"}]}
    stored = hostile(http, "POST", "/api/v1/detections", json=body)
    if readable:
        assert stored.status_code == 201, stored.text[:500]
        assert stored.json()["components"][0]["verdict"] == "no_match"
        still_stored(http, stored.json())
    else:
        assert "heavy atoms" in str(refused(stored, "smiles"))
    search = hostile(http, "GET", "/api/v1/substances", params={"smiles": smiles, "mode": "similarity"})
    if readable:
        assert search.status_code == 200
    else:
        refused(search, "smiles")
    still_stored(http, detection)


@pytest.mark.parametrize("smarts", SMARTS_BOMBS)
def test_smarts_bombs_in_substructure_search_are_bounded(server, smarts):
    http, detection = server
    response = hostile(http, "GET", "/api/v1/substances", params={"smiles": smarts, "mode": "substructure"})
    if response.status_code == 200:
        assert isinstance(response.json()["items"], list)
    else:
        refused(response, "smiles")
    still_stored(http, detection)


def test_gzip_upload_bomb_is_not_expanded(server):
    http, detection = server
    bomb = gzip_bomb(300)
    assert len(bomb) < 400_000  # a few hundred kB on the wire, 300 MB if expanded
    response = hostile(
        http,
        "POST",
        "/api/v1/detections:batch",
        content=bomb,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    # ews does not decompress request bodies: the bytes are refused as they are
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "body" in response.text or "Content-Encoding" in response.text
    listed = http.get("/api/v1/detections")
    assert listed.status_code == 200
    assert len(listed.json()["items"]) == 1
    still_stored(http, detection)


def test_malformed_molfile_and_sdf_are_refused(server):
    http, detection = server
    matched(hostile(http, "POST", "/api/v1/match", json={"molfile": MALFORMED_MOLFILE}), "molfile")
    body = {**DETECTION, "components": [{"molfile": MALFORMED_MOLFILE, "name": "bad"}]}
    refused(hostile(http, "POST", "/api/v1/detections", json=body), "molfile")
    response = hostile(
        http,
        "POST",
        "/api/v1/detections:batch",
        content=MALFORMED_SDF.encode(),
        headers={"Content-Type": "chemical/x-mdl-sdfile"},
    )
    assert 400 <= response.status_code < 500, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    listed = http.get("/api/v1/detections")
    assert len(listed.json()["items"]) == 1
    still_stored(http, detection)


def test_deeply_nested_recursive_smarts_is_refused_naming_the_field(server):
    """Each nesting level of ``$(...)`` is matched again at every atom of every library structure:
    1,990 levels (10 kB) held a worker for tens of seconds; now refused before any matching."""
    http, detection = server
    bomb = "[$(" * 1990 + "*~*" + ")]" * 1990
    response = hostile(http, "GET", "/api/v1/substances", params={"smiles": bomb, "mode": "substructure"})
    body = refused(response, "smiles")
    assert response.status_code == 422
    assert "recursive" in str(body)
    still_stored(http, detection)
