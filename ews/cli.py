"""The ``ews`` command line: a thin shell over the library and the service."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or an unusable file: exit code 2."""


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def _jurisdiction(value: str) -> str:
    code = value.strip().upper()
    if not (code == "UN" or (len(code) == 2 and code.isalpha())):
        raise argparse.ArgumentTypeError(f"{value!r} is not a jurisdiction; use UN or an ISO 3166 alpha-2 code")
    return code


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of processes; use a whole number >= 1")
    return jobs


# --- ews match --------------------------------------------------------------------------------


def _cache_dir() -> Path:
    """``EWS_CACHE_DIR`` as ews.config reads it (any case), without importing pydantic: ``ews match`` starts faster."""
    configured = {key.upper(): value for key, value in os.environ.items()}.get("EWS_CACHE_DIR")
    return Path(configured) if configured is not None else Path.home() / ".cache" / "ews"


def _load_library(args):
    """The --library file; else the node database's library (bundled + imported lists); else the bundled one."""
    from chem.library import LibraryError, ReferenceLibrary
    from ews.nodepath import NOT_FOUND, database_configured, find_node_database

    if args.bare and not args.library:
        raise UsageError("--bare needs --library PATH")
    if not (args.library or database_configured() or find_node_database()):
        # no node database to read: nothing else is needed from the settings (and pydantic stays unloaded)
        print(f"ews match: no node database here or above ({NOT_FOUND}); {_BUNDLED_ONLY}", file=sys.stderr)
        return ReferenceLibrary.bundled(cache_dir=_cache_dir())
    from ews.config import get_settings

    settings = get_settings()
    cache_dir = settings.cache_dir
    if args.library:
        try:
            return ReferenceLibrary.from_file(args.library, bare=args.bare, cache_dir=cache_dir)
        except LibraryError as error:
            raise UsageError(str(error)) from None
    library, note = _database_library(settings)
    if note:
        print(f"ews match: {note}", file=sys.stderr)
    return library or ReferenceLibrary.bundled(cache_dir=cache_dir)


_BUNDLED_ONLY = "reading only the bundled lists; national lists imported with `ews library import` are not used"


def _database_library(settings):
    """(the library in the node's database or None, what to tell the user on stderr)."""
    explicit = settings.database_origin in ("EWS_DATABASE_URL", "EWS_DATA_DIR")
    found = explicit or settings.database_origin.startswith("found")
    bundled_only = _BUNDLED_ONLY
    if not found:
        return None, f"no node database here or above ({settings.database_origin}); {bundled_only}"
    # imported only now: without a node database, `ews match` starts without SQLAlchemy
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from ews.db import engine_for
    from ews.migrate import display_url
    from ews.services.library import library_from_db

    where = display_url(settings.database_url)
    try:
        check_database(settings)
        engine = engine_for(settings.database_url)
        if _library_is_empty(engine):
            return None, f"the database {where} holds no library; {bundled_only}"
        with Session(engine) as session:
            library = library_from_db(session)
    except (DatabaseUnavailable, SQLAlchemyError) as error:
        return None, f"{bundled_only}: {error}"
    return library, f"using the library of the database {where} (bundled and imported lists)"


def _queries(args):
    from ews.matching import InputError, Query, queries_from_file

    queries = [Query(name=None, text=smiles) for smiles in args.smiles or []]
    if args.file:
        try:
            queries.extend(queries_from_file(Path(args.file)))
        except InputError as error:
            raise UsageError(str(error)) from None
    if not queries:
        raise UsageError("nothing to match: give --smiles S or --file PATH")
    return queries


NOT_IN_FORCE = "[not in force]"


def _not_in_force(match: dict, result: dict, library) -> bool:
    """Evidence that is not law in the asked jurisdiction on the as-of date (another country's, or not yet)."""
    if match["kind"] == "generic":
        return not (match.get("definition") or {}).get("in_force", False)
    if match["kind"] == "identity":
        substance = library.by_id.get(match["substance"]["id"])
        if substance is None or not substance.controls:
            return False
        as_of = date.fromisoformat(result["as_of"])
        return not substance.controls_in_force(result["jurisdiction"], as_of)
    return False


def _table(results: Iterable[dict], out, library) -> None:
    rows = [("name", "verdict", "class", "controls", "evidence")]
    marked = set()
    for result in results:
        if "error" in result:
            rows.append((result.get("name") or result.get("input") or "", "ERROR", "", "", result["error"]))
            continue
        controls = "; ".join(
            f"{c['jurisdiction'] or '(no jurisdiction)'} {c['instrument']} {c['schedule']} ({c['basis']})".strip()
            for c in result["controls"]
        )
        evidence = []
        for m in result["matches"][:3]:
            text = f"{m['kind']}:{m['substance']['name']}" + (
                f" {m['score']:.2f}" if m["kind"] == "similarity" else ""
            )
            if _not_in_force(m, result, library):
                text += " " + NOT_IN_FORCE
                marked.add((result["jurisdiction"], result["as_of"]))
            evidence.append(text)
        rows.append(
            (
                result.get("name") or result["standardized"]["smiles"],
                result["verdict"],
                result["class"] or "",
                controls,
                ", ".join(evidence),
            )
        )
    last = len(rows[0]) - 1  # the evidence column runs to the end of the line
    widths = [min(max(len(str(row[i])) for row in rows), 48) for i in range(len(rows[0]))]
    for row in rows:
        cells = [str(cell) if i == last else str(cell)[:48].ljust(widths[i]) for i, cell in enumerate(row)]
        out.write("  ".join(cells).rstrip() + "\n")
    for jurisdiction, as_of in sorted(marked):
        out.write(
            f"\n{NOT_IN_FORCE}: evidence that is not law in {jurisdiction} on {as_of} "
            "(another jurisdiction's, or not yet or no longer in force)\n"
        )


def _default_jurisdiction(library) -> str:
    """UN, unless a --library list names exactly one jurisdiction: then the list's own."""
    named = {c.jurisdiction for s in library.substances for c in s.controls if c.jurisdiction not in (None, "UN")}
    return named.pop() if len(named) == 1 else "UN"


def cmd_match(args) -> int:
    from ews.matching import default_jobs, match_all

    library = _load_library(args)
    jurisdiction = args.jurisdiction or (_default_jurisdiction(library) if args.library else "UN")
    queries = _queries(args)
    unreadable = 0
    fmt = args.format or ("table" if sys.stdout.isatty() else "json")
    results = []
    jobs = args.jobs or default_jobs()
    for result in match_all(queries, library, as_of=args.as_of, jurisdiction=jurisdiction, jobs=jobs):
        unreadable += "error" in result
        if fmt == "json":
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            results.append(result)
    if fmt == "table":
        _table(results, sys.stdout, library)
    return EXIT_UNREADABLE if unreadable else EXIT_OK


# --- ews db / library / admin / serve ------------------------------------------------------


def _settings():
    from ews.config import get_settings

    return get_settings()


class DatabaseUnavailable(Exception):
    """The node's database is missing, unreachable or not migrated: one line, exit code 2."""


def _how_to_point() -> str:
    return (
        "run `ews db upgrade` in the node's folder to create one, or point at one with "
        "EWS_DATABASE_URL=sqlite:////path/to/ews.db (or postgresql+psycopg://…) or EWS_DATA_DIR=FOLDER"
    )


def check_database(settings) -> None:
    """Refuse, in one line, a database that does not exist, does not answer, or is not migrated."""
    from sqlalchemy.exc import SQLAlchemyError

    from ews.migrate import current_revision, display_url, head_revision

    where = display_url(settings.database_url)
    path = settings.sqlite_path
    if path is not None and not path.is_file():
        raise DatabaseUnavailable(f"no database at {path} ({settings.database_origin}); {_how_to_point()}")
    try:
        revision = current_revision(settings.database_url)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise DatabaseUnavailable(
            f"cannot open the database {where}: {reason}; check that it runs, or point EWS_DATABASE_URL elsewhere"
        ) from None
    if revision is None:
        raise DatabaseUnavailable(f"the database {where} has no ews tables yet; run `ews db upgrade`")
    if revision != head_revision():
        raise DatabaseUnavailable(
            f"the database {where} is at revision {revision}, this ews needs {head_revision()}; "
            "run `ews db upgrade`"
        )


def _engine():
    from ews.db import engine_for

    settings = _settings()
    check_database(settings)
    return engine_for(settings.database_url)


def _library_is_empty(engine) -> bool:
    from sqlmodel import Session, select

    from ews.models import SubstanceRecord

    with Session(engine) as session:
        return session.exec(select(SubstanceRecord.id).limit(1)).first() is None


def cmd_db_upgrade(args) -> int:
    from ews.db import engine_for
    from ews.migrate import upgrade_with_report
    from ews.services.library import load_bundled
    from ews.services.rotation import rotate_secrets

    settings = _settings()
    report = upgrade_with_report(settings.database_url)
    print(report.describe(settings.database_url))
    engine = engine_for(settings.database_url)
    if _library_is_empty(engine):
        loaded = load_bundled(engine, settings.cache_dir)
        print(f"loaded the bundled library: {loaded.substances} substances, {loaded.controls} controls")
        for line in loaded.skipped:
            print(f"skipped: {line}", file=sys.stderr)
    encrypted = rotate_secrets(engine).total
    if encrypted:
        print(f"encrypted {encrypted} stored secret(s) under EWS_SECRET_KEY", file=sys.stderr)
    return EXIT_OK


def cmd_db_backup(args) -> int:
    from ews.services.backup import BackupError, backup

    try:
        summary = backup(_settings().database_url, Path(args.path))
    except BackupError as error:
        raise UsageError(str(error)) from None
    print(
        f"backed up the {summary.kind} database to {summary.path} ({summary.bytes} bytes). Keep EWS_SECRET_KEY "
        "(or secret.key in the data directory) too: stored secrets need it.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_db_restore(args) -> int:
    from ews.services.backup import BackupError, restore

    try:
        summary = restore(_settings().database_url, Path(args.path))
    except BackupError as error:
        raise UsageError(str(error)) from None
    print(f"restored the {summary.kind} database from {summary.path}", file=sys.stderr)
    return EXIT_OK


def cmd_admin_rotate_secrets(args) -> int:
    from ews.keyring import SecretKeyError
    from ews.services.rotation import rotate_secrets

    try:
        report = rotate_secrets(_engine())
    except SecretKeyError as error:
        raise UsageError(str(error)) from None
    detail = ", ".join(f"{table}: {count}" for table, count in report.rewritten.items())
    print(f"re-encrypted {report.total} secret(s) under the current EWS_SECRET_KEY ({detail})", file=sys.stderr)
    return EXIT_OK


def cmd_admin_rotate_key(args) -> int:
    from datetime import timedelta

    from ews.db import session_scope
    from ews.services.admin import rotate_key

    with session_scope(_engine()) as session:
        try:
            row, key, old = rotate_key(session, args.key_id, timedelta(hours=args.grace_hours))
        except ValueError as error:
            raise UsageError(str(error)) from None
    until = old.expires_at.isoformat(timespec="seconds") if old.expires_at else "never"
    print(
        f"new key {row.prefix}… with roles {', '.join(row.roles)}; the old key {old.prefix}… works until {until}."
        " Shown once:",
        file=sys.stderr,
    )
    print(key)
    return EXIT_OK


def cmd_library_load(args) -> int:
    from ews.services.library import load_bundled

    report = load_bundled(_engine(), _settings().cache_dir)
    print(
        f"loaded {report.substances} substances and {report.controls} controls (library version {report.version})",
        file=sys.stderr,
    )
    for line in report.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    _reidentify()
    return EXIT_OK


def _reidentify() -> None:
    """Stored detections whose answer changed with the library, and the alerts resting on them, follow it."""
    from ews.services.reidentify import reidentify

    print(reidentify(_engine(), _settings()).summary(), file=sys.stderr)


def cmd_library_import(args) -> int:
    from chem.library import LibraryError
    from ews.services.library import import_list

    try:
        report = import_list(_engine(), Path(args.path), args.jurisdiction, _settings().cache_dir)
    except LibraryError as error:
        raise UsageError(str(error)) from None
    where = args.jurisdiction or "the jurisdictions named in the file"
    print(
        f"imported {report.substances} substances ({report.controls} controls for {where}); "
        f"library version {report.version}",
        file=sys.stderr,
    )
    for line in report.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    _reidentify()
    return EXIT_UNREADABLE if report.skipped else EXIT_OK


def cmd_admin_create_org(args) -> int:
    from ews.db import session_scope
    from ews.services.admin import create_organisation

    with session_scope(_engine()) as session:
        organisation = create_organisation(
            session, args.name, args.kind, args.country, contact_email=args.contact_email
        )
    print(
        f"organisation {organisation.name!r} ({organisation.kind}, {organisation.country or '-'})", file=sys.stderr
    )
    print(organisation.id)
    return EXIT_OK


def cmd_admin_create_key(args) -> int:
    from datetime import timedelta

    from ews.db import session_scope, utcnow
    from ews.models import Organisation
    from ews.services.admin import issue_key

    with session_scope(_engine()) as session:
        organisation = session.get(Organisation, args.org)
        if organisation is None:
            raise UsageError(f"no organisation {args.org!r}; create one with `ews admin create-org`")
        try:
            row, key = issue_key(session, organisation, args.role or None, args.label)
            if args.expires_in_days is not None:
                row.expires_at = utcnow() + timedelta(days=args.expires_in_days)
                session.add(row)
        except ValueError as error:
            raise UsageError(str(error)) from None
    print(
        f"key {row.prefix}… for {organisation.name!r} with roles {', '.join(row.roles)}; shown once:",
        file=sys.stderr,
    )
    print(key)
    return EXIT_OK


def _print_table(rows: list[dict], columns: Sequence[str], fmt: str) -> None:
    """Rows as aligned columns for people, or one JSON list for scripts."""
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    cells = [list(columns)] + [["" if row[c] is None else str(row[c]) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())


def _stamp(value) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def cmd_admin_list_orgs(args) -> int:
    from sqlmodel import Session

    from ews.services.admin import organisations

    with Session(_engine()) as session:
        rows = [
            {
                "id": o.id,
                "name": o.name,
                "kind": o.kind,
                "country": o.country,
                "contact_email": o.contact_email,
                "created": _stamp(o.created_at),
            }
            for o in organisations(session)
        ]
    _print_table(rows, ("id", "name", "kind", "country", "created"), args.format)
    return EXIT_OK


def cmd_admin_list_keys(args) -> int:
    from sqlmodel import Session, col, select

    from ews.models import ApiKey, Organisation

    with Session(_engine()) as session:
        query = select(ApiKey, Organisation).join(Organisation, col(Organisation.id) == ApiKey.organisation_id)
        if args.org:
            query = query.where(ApiKey.organisation_id == args.org)
        if not args.all:
            query = query.where(col(ApiKey.revoked_at).is_(None))
        pairs = session.exec(query.order_by(col(ApiKey.created_at))).all()
        rows = [
            {
                "id": key.id,
                "prefix": key.prefix,
                "organisation_id": organisation.id,
                "org": organisation.name,
                "roles": ",".join(key.roles),
                "label": key.label,
                "created": _stamp(key.created_at),
                "revoked": _stamp(key.revoked_at),
            }
            for key, organisation in pairs
        ]
    if args.format == "json":
        for row in rows:
            row["roles"] = row["roles"].split(",") if row["roles"] else []  # type: ignore[assignment]
    _print_table(rows, ("id", "prefix", "org", "roles", "label", "created", "revoked"), args.format)
    return EXIT_OK


def cmd_admin_revoke_key(args) -> int:
    from ews.db import session_scope
    from ews.models import ApiKey
    from ews.services.admin import revoke_key

    with session_scope(_engine()) as session:
        already = None
        row = session.get(ApiKey, args.key_id)
        if row is not None:
            already = row.revoked_at
        row = revoke_key(session, args.key_id)
        if row is None:
            raise UsageError(f"no key {args.key_id!r}; `ews admin list-keys` shows the key ids")
        revoked_at = row.revoked_at
    state = "was already revoked" if already is not None else "revoked"
    print(f"key {args.key_id} ({row.prefix}…) {state} at {_stamp(revoked_at)}", file=sys.stderr)
    return EXIT_OK


def cmd_admin_create_user(args) -> int:
    from ews.db import session_scope
    from ews.models import Organisation
    from ews.services.accounts import AccountError, create_user

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    with session_scope(_engine()) as session:
        organisation = session.get(Organisation, args.org)
        if organisation is None:
            raise UsageError(f"no organisation {args.org!r}; create one with `ews admin create-org`")
        try:
            user, password = create_user(session, organisation, args.email, args.role or None, password, args.name)
        except AccountError as error:
            raise UsageError(str(error)) from None
    print(
        f"user {user.email} ({user.name}) in {organisation.name!r} with roles {', '.join(user.roles)}",
        file=sys.stderr,
    )
    if args.password_stdin:
        print(user.id)  # the password is the one given; the last line is the account's id
    else:
        print("password, shown once:", file=sys.stderr)
        print(password)
    return EXIT_OK


def cmd_admin_list_users(args) -> int:
    from sqlmodel import Session

    from ews.services.accounts import list_users

    with Session(_engine()) as session:
        rows = list_users(session)
    for user, organisation in rows:
        state = "disabled" if user.disabled_at else "active"
        last = user.last_sign_in_at.isoformat(timespec="seconds") if user.last_sign_in_at else "never"
        print(
            f"{user.id}  {user.email}  {user.name}  {organisation.id} ({organisation.name})  "
            f"{','.join(user.roles)}  {state}  last sign-in {last}"
        )
    return EXIT_OK


def cmd_peers_add(args) -> int:
    from alerts.urlguard import UnsafeTarget, check_url
    from ews.db import session_scope
    from ews.services.federation import PeerRefused, fetch_identity, register_peer, subscribe_wakeups

    try:
        check_url(args.url, _settings().allow_loopback_webhooks)
    except UnsafeTarget as refused:
        raise UsageError(str(refused)) from None
    try:
        found = fetch_identity(args.url, args.token, _settings())
    except PeerRefused as refused:
        print(f"ews peers add: refused: {refused}", file=sys.stderr)
        return EXIT_UNREADABLE
    with session_scope(_engine()) as session:
        peer = register_peer(session, args.url, args.token, found["node_id"], found["public_key"])
    note = subscribe_wakeups(_engine(), peer.id, args.token, _settings().base_url)
    if note:
        print(f"ews peers add: {note}; pulls only", file=sys.stderr)
    print(
        f"peer {peer.url} is node {found['node_id']!r}; its signing key is pinned; "
        f"its feeds are pulled every {_settings().federation_interval:g} s",
        file=sys.stderr,
    )
    print(peer.id)
    return EXIT_OK


def cmd_peers_list(args) -> int:
    from sqlmodel import Session, col, select

    from ews.models import Peer

    with Session(_engine()) as session:
        peers = session.exec(select(Peer).order_by(col(Peer.created_at))).all()
    for peer in peers:
        state = "active" if peer.active else "inactive"
        if peer.id_clash:
            state = "ERROR:id-clash"
        elif peer.last_error and peer.active:
            state = "ERROR"
        last = peer.last_success_at.isoformat(timespec="seconds") if peer.last_success_at else "never"
        error = f"  last error: {peer.last_error}" if peer.last_error else ""
        print(f"{peer.id}  {peer.url}  {peer.node_id or '?'}  {state}  last pull {last}{error}")
    return EXIT_OK


def prepare_metrics() -> None:
    """Before prometheus-client is imported: one metrics directory shared by the node's processes on this host.

    Files left by processes that are gone are removed, so counters restart with the node.
    """
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from ews.keyring import data_dir

    directory = data_dir(_settings().database_url) / "metrics"
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory.resolve())


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cmd_serve(args) -> int:
    from ews.server import PortBusy, check_port, follow_address, serve  # imports no prometheus_client yet

    try:
        check_port(args.host, args.port)
    except PortBusy as busy:
        print(f"ews serve: {busy}", file=sys.stderr)
        return EXIT_UNREADABLE
    if args.check_port:
        return EXIT_OK
    follow_address(args.host, args.port)
    check_database(_settings())
    prepare_metrics()  # after the checks: asking about a missing database creates no folder
    return serve(host=args.host, port=args.port, scheduler=not args.no_scheduler, workers=args.workers)


def cmd_worker(args) -> int:
    from ews.server import work

    check_database(_settings())
    prepare_metrics()
    return work()


# --- parser -----------------------------------------------------------------------------------


def _country(value: str) -> str:
    from ews.schemas import country_code

    try:
        return country_code(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ews", description="Early-warning system for new psychoactive substances"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="API + web pages (+ scheduler)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="API worker processes")
    serve.add_argument("--no-scheduler", action="store_true", help="leave scheduling to `ews worker`")
    serve.add_argument(
        "--check-port", action="store_true", help="only check that HOST:PORT is free (exit 1 if busy), then exit"
    )
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("worker", help="scheduler and delivery only").set_defaults(handler=cmd_worker)

    db = commands.add_parser("db", help="database").add_subparsers(dest="db_command", required=True, metavar="SUB")
    db.add_parser("upgrade", help="apply migrations").set_defaults(handler=cmd_db_upgrade)
    saved = db.add_parser("backup", help="a consistent copy of the database, taken while the node runs")
    saved.add_argument("path")
    saved.set_defaults(handler=cmd_db_backup)
    restored = db.add_parser("restore", help="replace the database with a backup (stop the node first)")
    restored.add_argument("path")
    restored.set_defaults(handler=cmd_db_restore)

    library = commands.add_parser("library", help="reference library").add_subparsers(
        dest="library_command", required=True, metavar="SUB"
    )
    library.add_parser("load", help="(re)load the bundled library").set_defaults(handler=cmd_library_load)
    imported = library.add_parser("import", help="add a national list (CSV or SDF)")
    imported.add_argument("path")
    imported.add_argument("--jurisdiction", type=_jurisdiction, default=None, metavar="CODE")
    imported.set_defaults(handler=cmd_library_import)

    admin = commands.add_parser("admin", help="organisations and keys").add_subparsers(
        dest="admin_command", required=True, metavar="SUB"
    )
    org = admin.add_parser("create-org", help="create an organisation; prints its id")
    org.add_argument("--name", required=True)
    org.add_argument("--kind", required=True, choices=("lab", "authority", "regional", "admin"))
    org.add_argument("--country", type=_country, default=None, metavar="CC")
    org.add_argument("--contact-email", default=None, help="told when one of its webhooks is disabled")
    org.set_defaults(handler=cmd_admin_create_org)
    key = admin.add_parser("create-key", help="issue an API key; prints it once")
    key.add_argument("--org", required=True, metavar="ORG_ID")
    key.add_argument(
        "--role", action="extend", nargs="+", choices=("lab", "authority", "regional", "admin"), metavar="ROLE"
    )
    key.add_argument("--label", default=None)
    key.add_argument(
        "--expires-in-days", type=float, default=None, metavar="DAYS", help="the key stops working then"
    )
    key.set_defaults(handler=cmd_admin_create_key)
    list_orgs = admin.add_parser("list-orgs", help="organisations of this node")
    list_orgs.add_argument("--format", choices=("table", "json"), default="table")
    list_orgs.set_defaults(handler=cmd_admin_list_orgs)
    list_keys = admin.add_parser("list-keys", help="API keys (id, organisation, roles, dates; never the key)")
    list_keys.add_argument("--org", default=None, metavar="ORG_ID", help="only this organisation's keys")
    list_keys.add_argument("--all", action="store_true", help="revoked keys too")
    list_keys.add_argument("--format", choices=("table", "json"), default="table")
    list_keys.set_defaults(handler=cmd_admin_list_keys)
    revoke = admin.add_parser("revoke-key", help="revoke an API key at once")
    revoke.add_argument("key_id", metavar="KEY_ID")
    revoke.set_defaults(handler=cmd_admin_revoke_key)
    user = admin.add_parser("create-user", help="create a person who signs in to the web pages")
    user.add_argument("--org", required=True, metavar="ORG_ID")
    user.add_argument("--email", required=True)
    user.add_argument("--name", default=None, help="shown in the page header (default: the e-mail's local part)")
    user.add_argument(
        "--role", action="extend", nargs="+", choices=("lab", "authority", "regional", "admin"), metavar="ROLE"
    )
    user.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of generating one",
    )
    user.set_defaults(handler=cmd_admin_create_user)
    admin.add_parser("list-users", help="people, their organisations and roles").set_defaults(
        handler=cmd_admin_list_users
    )
    rotate = admin.add_parser(
        "rotate-key", help="issue a successor of a key (same organisation and roles); the old one expires later"
    )
    rotate.add_argument("key_id", metavar="KEY_ID")
    rotate.add_argument(
        "--grace-hours",
        type=float,
        default=24.0,
        help="how long both keys work (default 24; 0 ends the old one now)",
    )
    rotate.set_defaults(handler=cmd_admin_rotate_key)
    admin.add_parser(
        "rotate-secrets", help="re-encrypt stored secrets under the current EWS_SECRET_KEY"
    ).set_defaults(handler=cmd_admin_rotate_secrets)

    peers = commands.add_parser("peers", help="federation with other ews nodes").add_subparsers(
        dest="peers_command", required=True, metavar="SUB"
    )
    add = peers.add_parser("add", help="pull a peer node's feeds")
    add.add_argument("url")
    add.add_argument("--token", required=True, help="an API key the peer issued to this node")
    add.set_defaults(handler=cmd_peers_add)
    peers.add_parser("list", help="peers and the state of their pulls").set_defaults(handler=cmd_peers_list)

    match = commands.add_parser("match", help="identify structures against the reference library")
    match.add_argument("--smiles", action="append", metavar="S", help="a structure (repeatable)")
    match.add_argument("--file", metavar="PATH", help="CSV with name,smiles columns, an SDF, or a .smi file")
    match.add_argument(
        "--library", metavar="PATH", help="a list (CSV or SDF) replacing the bundled controlled substances"
    )
    match.add_argument(
        "--bare", action="store_true", help="with --library: drop the bundled known substances and families too"
    )
    match.add_argument(
        "--as-of",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="date of the legal question (default today)",
    )
    match.add_argument(
        "--jurisdiction",
        type=_jurisdiction,
        default=None,
        metavar="CODE",
        help="UN or ISO 3166 alpha-2 (default UN; with --library, the one jurisdiction the list names, if it names one)",
    )
    match.add_argument(
        "--format", choices=("json", "table"), default=None, help="json: one object per line (default when piped)"
    )
    match.add_argument(
        "--jobs",
        type=_jobs,
        default=None,
        metavar="N",
        help="processes for a large --file (default: every core); results stay in input order",
    )
    match.set_defaults(handler=cmd_match)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (UsageError, DatabaseUnavailable) as error:
        print(f"ews {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:
        # a database error can only come from a command that imported SQLAlchemy: `ews match` may not have
        sqlalchemy_errors = sys.modules.get("sqlalchemy.exc")
        if sqlalchemy_errors is None or not isinstance(error, sqlalchemy_errors.SQLAlchemyError):
            raise
        from ews.migrate import display_url

        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(
            f"ews {args.command}: database error on {display_url(_settings().database_url)}: {reason}",
            file=sys.stderr,
        )
        return EXIT_UNREADABLE


if __name__ == "__main__":
    sys.exit(main())
