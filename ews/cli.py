"""The ``ews`` command line: a thin shell over the library and the service."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
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


# --- ews match --------------------------------------------------------------------------------


def _load_library(args):
    from chem.library import LibraryError, ReferenceLibrary
    from ews.config import get_settings

    cache_dir = get_settings().cache_dir
    if args.bare and not args.library:
        raise UsageError("--bare needs --library PATH")
    if args.library:
        try:
            return ReferenceLibrary.from_file(args.library, bare=args.bare, cache_dir=cache_dir)
        except LibraryError as error:
            raise UsageError(str(error)) from None
    return ReferenceLibrary.bundled(cache_dir=cache_dir)


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


def _table(results: Iterable[dict], out) -> None:
    rows = [("name", "verdict", "class", "controls", "evidence")]
    for result in results:
        if "error" in result:
            rows.append((result.get("name") or result.get("input") or "", "ERROR", "", "", result["error"]))
            continue
        controls = "; ".join(
            f"{c['jurisdiction']} {c['instrument']} {c['schedule']} ({c['basis']})".strip()
            for c in result["controls"]
        )
        evidence = ", ".join(
            f"{m['kind']}:{m['substance']['name']}" + (f" {m['score']:.2f}" if m["kind"] == "similarity" else "")
            for m in result["matches"][:3]
        )
        rows.append(
            (
                result.get("name") or result["standardized"]["smiles"],
                result["verdict"],
                result["class"] or "",
                controls,
                evidence,
            )
        )
    widths = [min(max(len(str(row[i])) for row in rows), 48) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(str(cell)[:48].ljust(widths[i]) for i, cell in enumerate(row)).rstrip() + "\n")


def cmd_match(args) -> int:
    from chem.match import match_text

    library = _load_library(args)
    queries = _queries(args)
    unreadable = 0
    fmt = args.format or ("table" if sys.stdout.isatty() else "json")
    results = []
    for query in queries:
        if query.error is not None:
            result = {
                "name": query.name,
                "input": query.text,
                "error": query.error,
                "error_code": query.error_code,
            }
        else:
            result = match_text(
                query.text or "",
                library,
                name=query.name,
                fmt=query.fmt,
                as_of=args.as_of,
                jurisdiction=args.jurisdiction,
            )
        unreadable += "error" in result
        if fmt == "json":
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            results.append(result)
    if fmt == "table":
        _table(results, sys.stdout)
    return EXIT_UNREADABLE if unreadable else EXIT_OK


# --- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ews", description="Early-warning system for new psychoactive substances"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    match = commands.add_parser("match", help="identify structures against the reference library")
    match.add_argument("--smiles", action="append", metavar="S", help="a structure (repeatable)")
    match.add_argument("--file", metavar="PATH", help="CSV with name,smiles columns, an SDF, or a .smi file")
    match.add_argument(
        "--library", metavar="PATH", help="a list (CSV or SDF) replacing the bundled controlled substances"
    )
    match.add_argument(
        "--bare", action="store_true", help="with --library: drop the bundled known substances and families"
    )
    match.add_argument(
        "--as-of",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the date of the legal question (default today)",
    )
    match.add_argument(
        "--jurisdiction", type=_jurisdiction, default="UN", metavar="CODE", help="UN (default) or ISO 3166 alpha-2"
    )
    match.add_argument(
        "--format", choices=("json", "table"), default=None, help="json: one object per line (default when piped)"
    )
    match.set_defaults(handler=cmd_match)

    for register in _EXTRA_COMMANDS:
        register(commands)
    return parser


_EXTRA_COMMANDS: list[Callable] = []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"ews {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
