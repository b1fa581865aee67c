"""The reference library: controlled substances, precursors and known substances.

Rows come from the bundled ``chem/data`` files or from a national list (CSV or
SDF) with the columns described in docs/contract.md. Every structure is
standardized once; a :class:`StandardizationCache` keeps the results on disk
so that start-up does not repeat the tautomer search.

>>> lib = ReferenceLibrary.from_rows([
...     {"name": "mephedrone", "smiles": "CNC(C)C(=O)c1ccc(C)cc1", "schedule": "II",
...      "controlled_since": "2015-03-13"}], source="demo.csv")
>>> [(s.name, s.status, s.controls[0].schedule) for s in lib.substances]
[('mephedrone', 'controlled', 'II')]
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import rdkit
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from chem.classes import CLASSES
from chem.errors import StructureError
from chem.families import FamilyRule, load_families
from chem.generic import GenericDefinition, load_definitions
from chem.isomers import CLAUSE as POSITIONAL_ISOMERS
from chem.read import iter_sdf, read_smiles
from chem.screening import SCREEN_BITS, ScreenIndex, screen
from chem.similarity import FingerprintIndex
from chem.standardize import Standardized, from_standardized_smiles, standardize

STATUSES = ("controlled", "precursor", "known", "excepted")
BUNDLED_LISTS = ("un_1961.csv", "un_1971.csv", "un_1988.csv")
BUNDLED_KNOWN = "known.csv"
NATIONAL_FOLDER = "national"
"""``chem/data/national/*.csv``: national control lists (the reference CSV format, one jurisdiction a file)."""
BUNDLED_MEDICINES = "drugcentral.csv"
"""Approved medicines of DrugCentral 2023 (CC BY-SA 4.0): known substances unless listed."""
STANDARDIZER_VERSION = "3"
"""Bump when :func:`chem.standardize.standardize` changes its output or the cache entries change shape
(2: InChIKey and formula cached too): invalidates caches, and older versions never read newer entries."""

_fingerprinter = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


def fingerprint(mol: Chem.Mol) -> DataStructs.ExplicitBitVect:
    """Morgan radius-2, 2048-bit fingerprint: the similarity measure of the library."""
    return _fingerprinter.GetFingerprint(mol)


class LibraryError(ValueError):
    """A reference list could not be read; the message names the file, row and column."""


@dataclass(frozen=True)
class Control:
    """One legal control of a substance: which law, which schedule, since when."""

    jurisdiction: str | None  # None: the list's own jurisdiction, whichever is asked for
    instrument: str
    schedule: str
    controlled_since: date | None
    clauses: frozenset[str] = frozenset()
    citation: str = ""
    status: str = "controlled"
    controlled_until: date | None = None  # the day a transfer or removal took effect

    def applies_in(self, jurisdiction: str) -> bool:
        """UN controls bind every party; a national control only its own jurisdiction."""
        return self.jurisdiction in (None, "UN", jurisdiction)

    def in_force(self, jurisdiction: str, on: date) -> bool:
        return self.applies_in(jurisdiction) and self.in_force_anywhere(on)

    def in_force_anywhere(self, on: date) -> bool:
        started = self.controlled_since is None or self.controlled_since <= on
        return started and (self.controlled_until is None or on < self.controlled_until)

    def to_dict(self, jurisdiction: str, basis: str, substance: Substance | None = None) -> dict:
        result: dict[str, object] = {
            # a list that names no jurisdiction says so (null), rather than borrow the one asked about
            "jurisdiction": self.jurisdiction,
            "instrument": self.instrument,
            "schedule": self.schedule,
            "controlled_since": self.controlled_since.isoformat() if self.controlled_since else None,
            "basis": basis,
        }
        if substance is not None:
            result["substance"] = {"id": substance.id, "name": substance.name}
        if self.citation:
            result["citation"] = self.citation
        return result


@dataclass
class Substance:
    id: str
    name: str
    status: str
    smiles: str = ""
    synonyms: tuple[str, ...] = ()
    drug_class: str | None = None
    formula: str = ""
    controls: list[Control] = field(default_factory=list)
    category: str = ""
    constituents: tuple[str, ...] = ()
    excepted_from: str | None = None
    citation: str = ""
    notes: str = ""
    source: str = ""
    standardized: Standardized | None = None

    @property
    def has_stereo(self) -> bool:
        return self.standardized is not None and self.standardized.has_stereo

    def controls_in_force(self, jurisdiction: str, on: date) -> list[Control]:
        return [c for c in self.controls if c.in_force(jurisdiction, on)]

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name}

    def clauses(self) -> frozenset[str]:
        return frozenset().union(*(c.clauses for c in self.controls)) if self.controls else frozenset()


# --- reading rows ---------------------------------------------------------------------------


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "substance"


def _split(value: str | None, separator: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(separator) if part.strip())


def _date(value: str | None, where: str) -> date | None:
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise LibraryError(f"{where}: controlled_since {value!r} is not a date; use YYYY-MM-DD") from None


def substance_from_row(row: Mapping[str, str | None], where: str, default_status: str = "controlled") -> Substance:
    """A :class:`Substance` from one row with the columns of the reference CSV format."""

    def get(key: str) -> str:
        return (row.get(key) or "").strip()

    name = get("name")
    if not name:
        raise LibraryError(f"{where}: column 'name' is empty")
    status = get("status").lower() or default_status
    if status not in STATUSES:
        raise LibraryError(f"{where}: status {status!r} is not one of controlled, precursor, known")
    drug_class = get("class").lower() or None
    if drug_class is not None and drug_class not in CLASSES:
        raise LibraryError(f"{where}: class {drug_class!r} is not one of {', '.join(sorted(CLASSES))}")
    controls = []
    if status in ("controlled", "precursor"):
        controls.append(
            Control(
                jurisdiction=get("jurisdiction").upper() or None,
                instrument=get("instrument") or get("list") or "national list",
                schedule=get("schedule"),
                controlled_since=_date(get("controlled_since"), where),
                clauses=frozenset(_split(get("clauses"), ";")),
                citation=get("citation"),
                status=status,
                controlled_until=_date(get("controlled_until"), where),
            )
        )
    return Substance(
        id=get("id") or _slug(name),
        name=name,
        status=status,
        smiles=get("smiles"),
        synonyms=_split(get("synonyms"), "|"),
        drug_class=drug_class,
        formula=get("formula"),
        controls=controls,
        category=get("category"),
        constituents=_split(get("constituents"), ";"),
        excepted_from=get("excepted_from") or None,
        citation=get("citation"),
        notes=get("notes"),
    )


def read_csv_rows(text: str, source: str) -> Iterator[tuple[str, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    missing = {"name", "smiles"} - fields
    if missing:
        raise LibraryError(f"{source}: missing column(s) {', '.join(sorted(missing))}; need name,smiles")
    for number, row in enumerate(reader, start=2):
        clean = {(k or "").strip().lower(): (v or "") for k, v in row.items() if k is not None}
        if not any(v.strip() for v in clean.values()):
            continue
        yield f"{source} line {number}", clean


def read_sdf_rows(text: str, source: str) -> Iterator[tuple[str, dict[str, str]]]:
    for record in iter_sdf(text):
        row = {k.strip().lower(): v for k, v in record.properties.items()}
        row.setdefault("name", record.title)
        if record.error is not None:
            raise LibraryError(f"{source} record {record.index + 1}: {record.error}")
        row["smiles"] = Chem.MolToSmiles(record.mol)
        yield f"{source} record {record.index + 1}", row


def read_list(path: Path | str, default_status: str = "controlled") -> list[Substance]:
    """Substances of a list file: CSV (``name,smiles`` + optional columns) or SDF."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise LibraryError(f"{path}: cannot read: {error}") from None
    rows = (
        read_sdf_rows(text, path.name)
        if path.suffix.lower() in (".sdf", ".sd", ".mol")
        else read_csv_rows(text, path.name)
    )
    substances = [substance_from_row(row, where, default_status) for where, row in rows]
    for substance in substances:
        substance.source = str(path)
    return merge_listings(substances)


_STATUS_PRECEDENCE = {"controlled": 0, "precursor": 1, "known": 2, "excepted": 3}


def _same_structure(a: str, b: str) -> bool:
    if a == b:
        return True
    mol_a, mol_b = Chem.MolFromSmiles(a), Chem.MolFromSmiles(b)
    return mol_a is not None and mol_b is not None and Chem.MolToSmiles(mol_a) == Chem.MolToSmiles(mol_b)


def merge_listings(substances: Iterable[Substance]) -> list[Substance]:
    """One substance per id: its listings (schedules, instruments) become controls.

    Rows of one id from different files merge too: dextromethorphan is both a
    medicine (known) and the isomer the 1961 Convention excepts from
    levomethorphan; the merged substance is known and keeps ``excepted_from``.
    """
    merged: dict[str, Substance] = {}
    for substance in substances:
        existing = merged.get(substance.id)
        if existing is None:
            merged[substance.id] = substance
            continue
        if not _same_structure(existing.smiles, substance.smiles):
            raise LibraryError(
                f"{substance.source or 'list'}: id {substance.id!r} appears with two structures "
                f"({existing.smiles} and {substance.smiles})"
            )
        existing.controls.extend(substance.controls)
        existing.synonyms = tuple(dict.fromkeys(existing.synonyms + substance.synonyms))
        if _STATUS_PRECEDENCE[substance.status] < _STATUS_PRECEDENCE[existing.status]:
            existing.status = substance.status
        existing.excepted_from = existing.excepted_from or substance.excepted_from
        existing.drug_class = existing.drug_class or substance.drug_class
        existing.category = existing.category or substance.category
    return list(merged.values())


@cache
def _bundled_text(name: str) -> str:
    return resources.files("chem").joinpath(f"data/{name}").read_text(encoding="utf-8")


@cache
def national_lists() -> tuple[str, ...]:
    """The bundled national lists, as paths under ``chem/data`` (``national/us_csa.csv``)."""
    folder = resources.files("chem").joinpath(f"data/{NATIONAL_FOLDER}")
    if not folder.is_dir():
        return ()
    return tuple(
        sorted(f"{NATIONAL_FOLDER}/{item.name}" for item in folder.iterdir() if item.name.endswith(".csv"))
    )


@cache
def bundled_jurisdictions() -> tuple[str, ...]:
    """UN and every jurisdiction whose law the bundled library carries (national lists, generic definitions)."""
    codes = {definition.jurisdiction for definition in load_definitions()}
    for name in national_lists():
        codes.update(row.get("jurisdiction", "").upper() for _, row in read_csv_rows(_bundled_text(name), name))
    return ("UN", *sorted(code for code in codes if code and code != "UN"))


def bundled_substances(
    include_controlled: bool = True,
    include_known: bool = True,
    exclude: Container[str] = (),
) -> list[Substance]:
    """Rows of the bundled UN lists, the bundled national lists, the known non-controlled substances and
    the medicines.

    ``exclude`` leaves out rows by id (a benchmark holds some medicines back).
    """
    controlled = (*BUNDLED_LISTS, *national_lists()) if include_controlled else ()
    names = controlled + ((BUNDLED_KNOWN, BUNDLED_MEDICINES) if include_known else ())
    substances = []
    for name in names:
        try:
            text = _bundled_text(name)
        except FileNotFoundError:
            continue
        default = "known" if name in (BUNDLED_KNOWN, BUNDLED_MEDICINES) else "controlled"
        for where, row in read_csv_rows(text, name):
            if row.get("id") in exclude:
                continue
            if name == BUNDLED_MEDICINES:
                row = _medicine_row(row)
            substance = substance_from_row(row, where, default)
            substance.source = f"bundled:{name}"
            substances.append(substance)
    return merge_listings(substances)


def _medicine_row(row: dict[str, str]) -> dict[str, str]:
    """A DrugCentral row in the known-substance columns: approvals and ATC codes go into the notes."""
    facts = [f"approved: {row['approvals'].replace(';', ', ')}" if row.get("approvals") else ""]
    facts.append(f"ATC {row['atc'].replace(';', ', ')}" if row.get("atc") else "")
    facts.append(f"CAS {row['cas']}" if row.get("cas") else "")
    facts.append(row.get("notes", ""))
    return {**row, "status": "known", "notes": "; ".join(f for f in facts if f)}


def fold_medicines(substances: list[Substance]) -> list[Substance]:
    """One substance per structure where a DrugCentral medicine repeats a listed or known one.

    Codeine is both a 1961 Schedule II drug and a medicine: the listed substance
    stays (with its controls, so precedence is unchanged), learns that it is a
    medicine and takes the DrugCentral name as a synonym. A medicine nothing else
    lists (ephedrine under a national list without precursors) stays a known
    substance of its own. Needs standardized structures.
    """
    medicine_source = f"bundled:{BUNDLED_MEDICINES}"
    first: dict[str, Substance] = {}
    ordered = sorted(substances, key=lambda s: s.source == medicine_source)  # stable: listed rows first
    folded: set[int] = set()
    for substance in ordered:
        std = substance.standardized
        if std is None:
            continue
        survivor = first.setdefault(std.inchikey, substance)
        if survivor is substance or substance.source != medicine_source:
            continue
        folded.add(id(substance))
        names = (substance.name, *substance.synonyms)
        survivor.synonyms = tuple(dict.fromkeys(survivor.synonyms + tuple(n for n in names if n != survivor.name)))
        if not survivor.category:
            survivor.category = "medicine"
    return [s for s in substances if id(s) not in folded]


# --- standardization cache ------------------------------------------------------------------


SEED = "standardized-seed.json"
"""Standardized forms of every bundled structure, shipped so that a first start needs no tautomer search.

Written by ``python -m chem.data.build_drugcentral --seed``; used only when it
was made with the running RDKit and standardizer versions.
"""


@cache
def _seed_entries() -> dict[str, list]:
    try:
        seed = json.loads(_bundled_text(SEED))
    except (FileNotFoundError, ValueError):
        return {}
    if seed.get("rdkit") != rdkit.__version__ or seed.get("standardizer") != STANDARDIZER_VERSION:
        return {}
    return seed.get("entries", {})


def write_seed(path: Path, substances: Iterable[Substance]) -> int:
    """Standardize the structures of ``substances`` and write them as the shipped seed cache."""
    entries: dict[str, list] = {}
    for substance in substances:
        if substance.smiles and substance.smiles not in entries:
            try:
                result = standardize(read_smiles(substance.smiles))
            except StructureError:
                continue
            entries[substance.smiles] = [
                result.smiles,
                list(result.removed_fragments),
                result.inchikey,
                result.formula,
            ]
    document = {"rdkit": rdkit.__version__, "standardizer": STANDARDIZER_VERSION, "entries": entries}
    path.write_text(json.dumps(document, sort_keys=True, indent=0) + "\n", encoding="utf-8")
    return len(entries)


class StandardizationCache:
    """Standardized forms of reference structures, kept on disk between runs.

    Keyed by the input SMILES; the file name carries the RDKit and standardizer
    versions, so an upgrade of either starts a fresh cache. The shipped seed
    (:data:`SEED`) answers for the bundled structures when its versions match.
    """

    def __init__(self, directory: Path | None) -> None:
        self.path = (
            directory / f"standardized-{rdkit.__version__}-{STANDARDIZER_VERSION}.json" if directory else None
        )
        self.entries: dict[str, list] = {}
        self.seed = _seed_entries()
        self.dirty = False
        if self.path and self.path.exists():
            try:
                self.entries = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self.entries = {}

    def standardized(self, smiles: str) -> Standardized:
        cached = self.entries.get(smiles) or self.seed.get(smiles)
        # an entry of another shape (a file written by another version of ews) is a miss, not a crash
        if isinstance(cached, list) and len(cached) == 4 and isinstance(cached[0], str):
            std_smiles, removed, inchikey, formula = cached
            return from_standardized_smiles(std_smiles, tuple(removed), inchikey, formula)
        result = standardize(read_smiles(smiles))
        self.entries[smiles] = [result.smiles, list(result.removed_fragments), result.inchikey, result.formula]
        self.dirty = True
        return result

    def save(self) -> None:
        if not (self.path and self.dirty):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(handle, "w") as out:
                json.dump(self.entries, out)
            os.replace(temporary, self.path)
            self.dirty = False
        except OSError:
            pass  # a read-only cache directory only costs start-up time


def _framed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "little") + data


def _read_fingerprints(data: bytes, expected: int) -> list[DataStructs.ExplicitBitVect]:
    fingerprints, offset = [], 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 4], "little")
        fingerprints.append(DataStructs.ExplicitBitVect(data[offset + 4 : offset + 4 + size]))  # type: ignore[call-overload]  # RDKit takes its binary form; the stubs omit it
        offset += 4 + size
    if len(fingerprints) != expected or offset != len(data):
        raise ValueError("fingerprint cache does not match the library")
    return fingerprints


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only cache directory only costs time


def _ranks_by_name(substances: list[Substance]) -> np.ndarray:
    """The place of each substance's name in Python's sort order (equal names, equal places)."""
    places = {name: place for place, name in enumerate(sorted({s.name for s in substances}))}
    return np.array([places[s.name] for s in substances], dtype=np.int64)


# --- the library ----------------------------------------------------------------------------


@dataclass
class ReferenceLibrary:
    """Substances indexed by identity keys and fingerprints, with family rules and definitions."""

    substances: list[Substance]
    families: list[FamilyRule] = field(default_factory=list)
    definitions: list[GenericDefinition] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cache_dir: Path | None = None
    """Where the fingerprints of the known substances are kept between runs (none: computed each run)."""

    def __post_init__(self) -> None:
        self.by_id: dict[str, Substance] = {}
        self.by_inchikey: dict[str, list[Substance]] = {}
        self.by_skeleton: dict[str, list[Substance]] = {}
        self.by_flat_smiles: dict[str, list[Substance]] = {}
        self.controlled: list[Substance] = []
        self.controlled_fps: list = []
        self.fingerprint_by_id: dict[str, DataStructs.ExplicitBitVect] = {}
        self.positional_by_formula: dict[str, list[Substance]] = {}  # listings with a positional-isomer clause
        self._in_force_cache: dict[tuple[str, date], np.ndarray] = {}
        for substance in self.substances:
            self.by_id.setdefault(substance.id, substance)
            std = substance.standardized
            if std is None:
                continue
            self.by_inchikey.setdefault(std.inchikey, []).append(substance)
            self.by_skeleton.setdefault(std.skeleton_key, []).append(substance)
            if any(POSITIONAL_ISOMERS in c.clauses for c in substance.controls):
                self.positional_by_formula.setdefault(std.formula, []).append(substance)
            if any(c.status == "controlled" for c in substance.controls):
                flat = Chem.MolToSmiles(std.mol, isomericSmiles=False)
                self.by_flat_smiles.setdefault(flat, []).append(substance)
                self.controlled.append(substance)
                self.controlled_fps.append(fingerprint(std.mol))
                self.fingerprint_by_id[substance.id] = self.controlled_fps[-1]

    @cached_property
    def controlled_index(self) -> FingerprintIndex:
        """The fingerprints of :attr:`controlled`, packed for similarity search."""
        return FingerprintIndex(self.controlled_fps)

    def similar_controlled(
        self, query_fp: DataStructs.ExplicitBitVect, threshold: float, among: np.ndarray | None = None
    ) -> list[tuple[float, Substance]]:
        """(similarity, substance) of the controlled substances at least ``threshold`` similar, in library order;
        only those where ``among`` (one flag for each of :attr:`controlled`) is true, when given."""
        found = self.controlled_index.at_least(query_fp, threshold)
        return [(score, self.controlled[i]) for i, score in found if among is None or among[i]]

    def controlled_by_similarity(self, query_fp: DataStructs.ExplicitBitVect) -> list[tuple[float, Substance]]:
        """(similarity, substance) of every controlled substance, the most similar first, then by name:
        ``sorted(zip(BulkTanimotoSimilarity(query_fp, controlled_fps), controlled), key=(-score, name))``."""
        ranked = self.controlled_index.ranked(query_fp, self._name_ranks["controlled"])
        return [(score, self.controlled[i]) for i, score in ranked]

    def known_by_similarity(self, query_fp: DataStructs.ExplicitBitVect) -> list[tuple[float, Substance]]:
        """The same over the known substances of :attr:`known_index`."""
        known, _ = self.known_index
        ranked = self.known_fingerprint_index.ranked(query_fp, self._name_ranks["known"])
        return [(score, known[i]) for i, score in ranked]

    @cached_property
    def _name_ranks(self) -> dict[str, np.ndarray]:
        return {"controlled": _ranks_by_name(self.controlled), "known": _ranks_by_name(self.known_index[0])}

    def controlled_in_force(self, jurisdiction: str, on: date) -> np.ndarray:
        """For each of :attr:`controlled`, whether a control of it binds ``jurisdiction`` on ``on``
        (UN controls bind every party), worked out once per jurisdiction and day."""
        key = (jurisdiction, on)
        flags = self._in_force_cache.get(key)
        if flags is None:
            flags = np.array(
                [
                    any(c.status == "controlled" and c.in_force(jurisdiction, on) for c in s.controls)
                    for s in self.controlled
                ],
                dtype=bool,
            )
            if len(self._in_force_cache) >= 64:  # a long-running service asks about a new day now and then
                self._in_force_cache.clear()
            self._in_force_cache[key] = flags
        return flags

    @cached_property
    def _rule_screens(self) -> tuple[ScreenIndex, np.ndarray, np.ndarray]:
        """The screens of every family pattern and definition core; which rule (families first) owns each;
        and the rules without screens, which are always possible."""
        screens: list[DataStructs.ExplicitBitVect] = []
        owners: list[int] = []
        unscreened = np.zeros(len(self.families) + len(self.definitions), dtype=bool)
        for number, rule in enumerate(self.families):
            unscreened[number] = not rule.screens
            screens += rule.screens
            owners += [number] * len(rule.screens)
        for number, definition in enumerate(self.definitions, start=len(self.families)):
            core_screen = definition._core_screen
            unscreened[number] = core_screen is None
            if core_screen is not None:
                screens.append(core_screen)
                owners.append(number)
        return ScreenIndex(screens), np.array(owners, dtype=np.intp), unscreened

    def possible_rules(
        self, molecule_screen: DataStructs.ExplicitBitVect | None
    ) -> tuple[list[FamilyRule], list[bool]]:
        """The family rules that may match a molecule with this screen (:func:`chem.screening.screen`),
        and for each definition whether its core may occur in it.

        A rule left out has no pattern the molecule can contain, so its ``matching_atoms`` is None;
        a definition marked False covers the molecule only through another tautomer, if at all.
        """
        index, owners, unscreened = self._rule_screens
        possible = unscreened.copy()
        possible[owners[index.possible(molecule_screen)]] = True
        families = [rule for rule, ok in zip(self.families, possible.tolist(), strict=False) if ok]
        return families, possible[len(self.families) :].tolist()

    @cached_property
    def _ester_ether_parent_screens(self) -> ScreenIndex:
        """Screens of the controlled structures that an ester or ether could be cleaved back to.

        ``match`` looks a cleaved fragment up by its flat SMILES among the controlled structures,
        then by skeleton for a listing with an esters or ethers clause: such a fragment has the
        structure of one of these (stereo aside) and is part of the ester or ether.
        """
        clauses = {"esters", "ethers"}
        skeletons = {
            s.standardized.skeleton_key
            for s in self.substances
            if s.standardized is not None and any(clauses & c.clauses for c in s.controls)
        }
        parents = [
            substances[0].standardized
            for substances in self.by_flat_smiles.values()
            if substances[0].standardized is not None and substances[0].standardized.skeleton_key in skeletons
        ]
        # a pattern fingerprint costs about a millisecond: kept in the cache directory between runs
        forms = "\n".join(p.smiles for p in parents)
        key = hashlib.sha256(f"{rdkit.__version__}\n{forms}".encode()).hexdigest()[:20]
        path = self.cache_dir / f"parent-screens-{key}.bin" if self.cache_dir else None
        if path is not None and path.exists():
            try:
                words = np.frombuffer(path.read_bytes(), dtype="<u8")
                if len(words) == len(parents) * SCREEN_BITS // 64:
                    return ScreenIndex([], words.reshape(len(parents), SCREEN_BITS // 64))
            except OSError:
                pass  # unreadable: computed again below and rewritten
        index = ScreenIndex([screen(p.mol) for p in parents])
        if path is not None:
            _write_atomically(path, index.words.tobytes())
        return index

    def may_be_ester_or_ether(self, molecule_screen: DataStructs.ExplicitBitVect | None) -> bool:
        """False only when no ester or ether of a controlled structure has this screen."""
        return bool(self._ester_ether_parent_screens.possible(molecule_screen).any())

    @cached_property
    def known_index(self) -> tuple[list[Substance], list[DataStructs.ExplicitBitVect]]:
        """Known non-controlled substances and their fingerprints, built when first asked for.

        Thousands of medicines would cost start-up time if fingerprinted at once;
        most runs of ``ews match`` never need them.
        """
        # an enantiomer of a controlled drug (dexmethylphenidate) is no evidence for the medicines' side
        controlled_skeletons = {s.standardized.skeleton_key for s in self.controlled if s.standardized}
        known = [
            s
            for s in self.substances
            if s.status == "known"
            and not s.controls
            and s.standardized is not None
            and s.standardized.skeleton_key not in controlled_skeletons
        ]
        return known, self._known_fingerprints(known)

    @cached_property
    def _coverage(self) -> dict[tuple[str, str], bool]:
        return {}

    def covered(self, key: str, substance: Substance, covers: Callable[[Chem.Mol], bool]) -> bool:
        """Whether a rule (``key``: a family rule, a generic definition) covers ``substance``, as ``covers``
        says; remembered, since the same controlled substances are asked about again and again."""
        found = self._coverage.get((key, substance.id))
        if found is None:
            found = substance.standardized is not None and covers(substance.standardized.mol)
            self._coverage[(key, substance.id)] = found
        return found

    def families_of(self, substance: Substance) -> frozenset[str]:
        """Ids of the family rules that cover ``substance`` (remembered as :meth:`covered` is)."""
        return frozenset(r.id for r in self.families if self.covered(f"family:{r.id}", substance, r.matches))

    def _known_fingerprints(self, known: list[Substance]) -> list[DataStructs.ExplicitBitVect]:
        """Fingerprints of ``known``, from the cache directory when it holds them for exactly these structures."""
        forms = "\n".join(s.standardized.smiles for s in known)  # type: ignore[union-attr]
        key = hashlib.sha256(f"{rdkit.__version__}\n{forms}".encode()).hexdigest()[:20]
        path = self.cache_dir / f"known-fingerprints-{key}.bin" if self.cache_dir else None
        if path is not None and path.exists():
            try:
                return _read_fingerprints(path.read_bytes(), len(known))
            except (OSError, ValueError, RuntimeError):
                pass  # unreadable or damaged: computed again below and rewritten
        fingerprints = [fingerprint(s.standardized.mol) for s in known]  # type: ignore[union-attr]
        if path is not None:
            _write_atomically(path, b"".join(_framed(fp.ToBinary()) for fp in fingerprints))
        return fingerprints

    def nearest_known(self, query_fp: DataStructs.ExplicitBitVect) -> tuple[float, Substance | None]:
        """The known substance most similar to a query, with its similarity."""
        known, _ = self.known_index
        if not known:
            return 0.0, None
        best, score = self.known_fingerprint_index.nearest(query_fp)
        return score, known[best]

    def on_bits(self, substance: Substance) -> frozenset[int]:
        """The on bits of a substance's fingerprint, kept: similarity evidence reads them for every query."""
        found = self._on_bits.get(substance.id)
        if found is None:
            fp = self.fingerprint_by_id.get(substance.id) or fingerprint(substance.standardized.mol)  # type: ignore[union-attr]
            found = self._on_bits[substance.id] = frozenset(fp.GetOnBits())
        return found

    def has_nitrogen(self, substance: Substance) -> bool:
        """Whether a substance's structure has a nitrogen atom, kept for the same reason."""
        found = self._nitrogen.get(substance.id)
        if found is None:
            mol = substance.standardized.mol  # type: ignore[union-attr]
            found = self._nitrogen[substance.id] = any(atom.GetAtomicNum() == 7 for atom in mol.GetAtoms())
        return found

    @cached_property
    def _on_bits(self) -> dict[str, frozenset[int]]:
        return {}

    @cached_property
    def _nitrogen(self) -> dict[str, bool]:
        return {}

    @cached_property
    def known_fingerprint_index(self) -> FingerprintIndex:
        return FingerprintIndex(self.known_index[1])

    @classmethod
    def build(
        cls,
        substances: list[Substance],
        families: list[FamilyRule] | None = None,
        definitions: list[GenericDefinition] | None = None,
        cache_dir: Path | None = None,
    ) -> ReferenceLibrary:
        """Standardize every structure (through the cache) and index the library."""
        store = StandardizationCache(cache_dir)
        errors = []
        for substance in substances:
            if not substance.smiles:
                continue
            try:
                substance.standardized = store.standardized(substance.smiles)
            except StructureError as error:
                errors.append(f"{substance.source or 'list'}: {substance.name}: {error}")
        store.save()
        return cls(fold_medicines(substances), families or [], definitions or [], errors, cache_dir)

    @classmethod
    def bundled(cls, cache_dir: Path | None = None) -> ReferenceLibrary:
        """The bundled UN lists, known substances, family rules and generic definitions."""
        return cls.build(bundled_substances(), load_families(), load_definitions(), cache_dir)

    @classmethod
    def from_file(cls, path: Path | str, bare: bool = False, cache_dir: Path | None = None) -> ReferenceLibrary:
        """A national list replacing the bundled controlled substances and definitions.

        The bundled known substances and family rules stay in use unless ``bare``.
        """
        substances = read_list(path)
        if not bare:
            substances += bundled_substances(include_controlled=False)
        return cls.build(substances, [] if bare else load_families(), [], cache_dir)

    @classmethod
    def from_rows(
        cls, rows: Iterable[Mapping[str, str | None]], source: str = "rows", cache_dir: Path | None = None
    ) -> ReferenceLibrary:
        substances = [substance_from_row(row, f"{source} row {i + 1}") for i, row in enumerate(rows)]
        for substance in substances:
            substance.source = source
        return cls.build(merge_listings(substances), [], [], cache_dir)
