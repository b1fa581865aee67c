"""Batches of detections: CSV, SDF or a JSON list, each row on its own, nothing silent.

A CSV holds one component per row; rows sharing an ``external_ref`` are one
detection. Its columns are exactly those of ``CSV_COLUMNS``: an unknown column
is an error naming it (a misspelt ``seized_on`` would otherwise vanish).
Rows without ``external_ref`` (and a batch without ``Idempotency-Key``) cannot
be retried safely; identical ones within the batch are stored once and every
such row is warned about.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from chem.read import iter_sdf
from ews.problems import Problem, field_error, field_path, invalid, nul_paths
from ews.schemas import DetectionIn

# column -> (where it goes, what it holds); the order is the documented order
CSV_COLUMNS: dict[str, tuple[str, str]] = {
    "external_ref": (
        "detection",
        "the lab's own reference; rows sharing it are one detection, and a retry is safe",
    ),
    "country": ("sample", "ISO 3166-1 alpha-2 code of the country of seizure (required)"),
    "region": ("sample", "sub-national region, name or ISO 3166-2"),
    "form": ("sample", "powder, tablet, blotter, herbal material, liquid, … (see the API schema)"),
    "sold_as": ("sample", "what the sample was sold or seized as"),
    "seized_on": ("sample", "date of seizure, YYYY-MM-DD"),
    "analyzed_on": ("sample", "date of analysis, YYYY-MM-DD"),
    "techniques": ("sample", "analytical techniques separated by ';' (GC-MS;FTIR)"),
    "confidence": ("sample", "confirmed (default) or tentative"),
    "smiles": ("component", "the component's structure as SMILES (this or inchi)"),
    "inchi": ("component", "the component's structure as InChI (this or smiles)"),
    "name": ("component", "what the lab calls the component"),
    "purity_percent": ("component", "the component's purity, 0–100"),
    "amount_mg": ("component", "the component's amount per unit (tablet, blotter), mg"),
    "role": ("component", "active, adulterant, diluent, impurity, by_product or unknown"),
    "enantiomer_ratio": ("component", "share of the (R)- or (+)-enantiomer in percent, 50 = racemic"),
    "colour": ("appearance", "the sample's colour"),
    "logo": ("appearance", "logo or imprint on a tablet"),
    "shape": ("appearance", "shape of a tablet or unit"),
    "mass_mg": ("appearance", "mass of one tablet or unit, mg"),
    "diameter_mm": ("appearance", "diameter of a tablet, mm"),
    "packaging": ("appearance", "packaging text or description"),
    "case_ref": ("detection", "private to the lab: case reference"),
    "notes": ("detection", "private to the lab: notes"),
}
SAMPLE_FIELDS = tuple(c for c, (where, _) in CSV_COLUMNS.items() if where == "sample" and c != "techniques")
COMPONENT_FIELDS = tuple(c for c, (where, _) in CSV_COLUMNS.items() if where == "component")
APPEARANCE_FIELDS = tuple(c for c, (where, _) in CSV_COLUMNS.items() if where == "appearance")
SDF_PROPERTIES = (
    *SAMPLE_FIELDS,
    *APPEARANCE_FIELDS,
    "techniques",
    *COMPONENT_FIELDS,
    "external_ref",
    "case_ref",
    "notes",
)


def accepted_columns() -> str:
    return ", ".join(CSV_COLUMNS)


def columns_markdown() -> str:
    """The accepted CSV columns as a Markdown table (OpenAPI description, docs)."""
    lines = ["| column | part | meaning |", "|---|---|---|"]
    lines += [f"| `{name}` | {where} | {meaning} |" for name, (where, meaning) in CSV_COLUMNS.items()]
    return "\n".join(lines)


@dataclass
class Row:
    """One detection of a batch, as read, with where it came from."""

    body: dict | None
    source: str  # "row 3", "lines 2–3", "record 4"
    error: str | None = None
    lines: list[int] = field(default_factory=list)


def _techniques(text: str) -> list[str]:
    return [t.strip() for t in text.replace(",", ";").split(";") if t.strip()]


def rows_from_csv(text: str) -> list[Row]:
    """CSV rows (one component each) grouped into detections by external_ref."""
    # newline="": a lone carriage return ends a line, as in old Mac files, instead of failing the parse
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _grouped_rows(reader)
    except csv.Error as error:  # a cell over the csv module's size limit, a stray quote in strict files
        raise invalid([field_error("file", f"after line {reader.line_num}: {error}", "csv_invalid")]) from None


def _grouped_rows(reader: csv.DictReader) -> list[Row]:
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if not header:
        raise invalid([field_error("file", f"the CSV has no header line; accepted columns: {accepted_columns()}")])
    errors = [
        field_error(
            f"file.columns[{i}]",
            f"unknown column {name!r}; accepted columns: {accepted_columns()}" if name else "a column has no name",
            "unknown_column",
        )
        for i, name in enumerate(header)
        if name not in CSV_COLUMNS
    ]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    errors += [
        field_error("file.columns", f"column {name!r} appears twice", "duplicate_column") for name in duplicates
    ]
    if not {"smiles", "inchi"} & set(header):
        errors.append(field_error("file.columns", "the CSV needs a smiles (or inchi) column", "missing_column"))
    if errors:
        names = ", ".join(repr(n) for n in header if n not in CSV_COLUMNS) or "missing or repeated"
        raise invalid(
            errors, f"the CSV's columns are not accepted ({names}); accepted columns: {accepted_columns()}"
        )
    grouped: dict[str, Row] = {}
    for number, raw in enumerate(reader, start=2):
        if None in raw:  # more cells than header columns
            grouped[f"line {number}"] = Row(
                None, f"line {number}", f"line {number} has more cells than the header has columns", [number]
            )
            continue
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue  # a blank line
        key = row.get("external_ref") or f"line {number}"
        if key not in grouped:
            sample: dict[str, Any] = {k: row[k] for k in SAMPLE_FIELDS if row.get(k)}
            if row.get("techniques"):
                sample["techniques"] = _techniques(row["techniques"])
            appearance = {k: row[k] for k in APPEARANCE_FIELDS if row.get(k)}
            if appearance:
                sample["appearance"] = appearance
            body: dict[str, Any] = {"sample": sample, "components": []}
            for name in ("external_ref", "case_ref", "notes"):
                if row.get(name):
                    body[name] = row[name]
            grouped[key] = Row(body, "", None, [])
        target = grouped[key]
        target.lines.append(number)
        if target.body is None:
            continue
        component: dict[str, Any] = {k: row[k] for k in COMPONENT_FIELDS if row.get(k)}
        target.body["components"].append(component)
    detections = list(grouped.values())
    for detection in detections:
        numbers = detection.lines
        detection.source = detection.source or (
            f"line {numbers[0]}" if len(numbers) == 1 else f"lines {', '.join(map(str, numbers))}"
        )
    return detections


def rows_from_sdf(text: str) -> list[Row]:
    """One detection per SDF record; sample fields come from the record's data items."""
    rows: list[Row] = []
    for record in iter_sdf(text):
        source = f"record {record.index + 1}"
        if record.error is not None:
            rows.append(Row(None, source, f"{source}: {record.error}"))
            continue
        props = {k.strip().lower(): v.strip() for k, v in record.properties.items()}
        sample: dict[str, Any] = {k: props[k] for k in SAMPLE_FIELDS if props.get(k)}
        if props.get("techniques"):
            sample["techniques"] = _techniques(props["techniques"])
        appearance = {k: props[k] for k in APPEARANCE_FIELDS if props.get(k)}
        if appearance:
            sample["appearance"] = appearance
        component: dict[str, Any] = {"molfile": record.molblock, "name": props.get("name") or record.title or None}
        for key in ("purity_percent", "amount_mg", "role", "enantiomer_ratio"):
            if props.get(key):
                component[key] = props[key]
        body: dict[str, Any] = {"sample": sample, "components": [component]}
        for key in ("external_ref", "case_ref", "notes"):
            if props.get(key):
                body[key] = props[key]
        rows.append(Row(body, source))
    return rows


def rows_from_json(items: Sequence[Any]) -> list[Row]:
    return [
        Row(item, f"row {i}")
        if isinstance(item, dict)
        else Row(None, f"row {i}", "each row must be a JSON object")
        for i, item in enumerate(items)
    ]


def validate(row: Row, index: int) -> tuple[DetectionIn | None, list[dict]]:
    if row.body is None:
        return None, [field_error(f"[{index}]", row.error or "unreadable row")]
    nul = nul_paths(row.body)  # a CSV or SDF inside an upload is not seen by ews.middleware.RefuseNul
    if nul:
        return None, [
            field_error(f"[{index}].{path}", "holds a NUL character (U+0000)", "nul_character") for path in nul
        ]
    try:
        return DetectionIn.model_validate(row.body), []
    except ValidationError as error:
        return None, [
            field_error(
                f"[{index}].{field_path(tuple(e['loc']))}", e["msg"].removeprefix("Value error, "), e["type"]
            )
            for e in error.errors()
        ]


NO_REF_WARNING = (
    "no external_ref: sending this batch again would store this detection again; "
    "give each row an external_ref (or the batch an Idempotency-Key header)"
)


def every_row_failed(results: list[dict], summary: dict) -> Problem:
    """The answer when nothing of a non-empty batch was stored: 422 with every row's errors."""
    errors = [
        {**e, "row": r["index"]}
        for r in results
        for e in (r.get("errors") or [field_error(f"[{r['index']}]", r.get("detail", ""))])
    ]
    return Problem(
        422,
        "Invalid request",
        f"no row of the batch was stored: all {len(results)} failed",
        errors=errors,
        summary=summary,
        results=results,
    )
