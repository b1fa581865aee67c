"""Matching without storing, and the reference library: substances by name or structure."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from rdkit import Chem, DataStructs

from chem.errors import StructureError
from chem.library import ReferenceLibrary, Substance, fingerprint
from chem.read import read_smarts, read_structure
from chem.standardize import standardize
from ews.api.answers import Matches, SubstanceDetail, SubstancePage, answer
from ews.api.deps import Node, node, principal
from ews.api.filters import reject_unknown_query
from ews.auth import Principal
from ews.problems import field_error, invalid, not_found
from ews.schemas import MatchIn

router = APIRouter(prefix="/api/v1", tags=["reference"])


@router.post(
    "/match",
    summary="Match structures against the reference library; nothing is stored",
    responses=answer(Matches),
)
def match_structures(payload: MatchIn, _: Principal = Depends(principal), state: Node = Depends(node)):
    """``results`` has one match result per structure, in order; the answer mirrors the question:
    ``components`` when components were sent (each with its ``match``), ``match`` for a single structure."""
    results = []
    for structure in payload.items:
        fmt, text = structure.structure
        results.append(
            state.identifier.identify(  # a question leaves no trace: share=False
                text, fmt, name=structure.name, jurisdiction=payload.jurisdiction, as_of=payload.as_of, share=False
            )
        )
    body: dict = {"results": results}
    if payload.components:
        body["components"] = [
            {"name": c.name, "match": r} for c, r in zip(payload.components, results, strict=True)
        ]
    if not (payload.structures or payload.components):
        body["match"] = results[0]
    return body


def substance_summary(substance: Substance) -> dict:
    std = substance.standardized
    return {
        "id": substance.id,
        "name": substance.name,
        "status": substance.status,
        "class": substance.drug_class,
        "formula": std.formula if std else substance.formula or None,
        "smiles": std.smiles if std else None,
        "inchikey": std.inchikey if std else None,
    }


def substance_detail(substance: Substance) -> dict:
    body = substance_summary(substance)
    body.update(
        {
            "synonyms": list(substance.synonyms),
            "listed_smiles": substance.smiles or None,
            "category": substance.category or None,
            "constituents": list(substance.constituents),
            "excepted_from": substance.excepted_from,
            "citation": substance.citation,
            "notes": substance.notes,
            "controls": [
                {
                    "jurisdiction": c.jurisdiction,
                    "instrument": c.instrument,
                    "schedule": c.schedule,
                    "controlled_since": c.controlled_since.isoformat() if c.controlled_since else None,
                    "clauses": sorted(c.clauses),
                    "status": c.status,
                    "citation": c.citation,
                }
                for c in substance.controls
            ],
        }
    )
    return body


def _query_mol(text: str, field: str) -> Chem.Mol:
    try:
        return standardize(read_structure(text)).mol
    except StructureError as error:
        raise invalid([field_error(field, str(error), error.code)]) from None


def _by_structure(
    library: ReferenceLibrary, text: str, mode: str, threshold: float
) -> list[tuple[Substance, float | None]]:
    if mode == "substructure":
        try:
            pattern = read_smarts(text)
        except StructureError as error:
            raise invalid([field_error("smiles", str(error), error.code)]) from None
        if pattern is None:
            pattern = _query_mol(text, "smiles")
        hits: list[tuple[Substance, float | None]] = []
        for substance in library.substances:
            std = substance.standardized
            if std is not None and std.mol.HasSubstructMatch(pattern):
                hits.append((substance, None))
        return hits
    query = _query_mol(text, "smiles")
    if mode == "exact":
        key = Chem.MolToInchiKey(query)
        return [(s, 1.0) for s in library.by_inchikey.get(key, [])]
    structured = [s for s in library.substances if s.standardized is not None]
    scores = DataStructs.BulkTanimotoSimilarity(
        fingerprint(query),
        [fingerprint(s.standardized.mol) for s in structured],  # type: ignore[union-attr]
    )
    ranked = sorted(
        ((s, score) for s, score in zip(structured, scores, strict=True) if score >= threshold),
        key=lambda pair: -pair[1],
    )
    return ranked


@router.get(
    "/substances",
    summary="Search the reference library by name, synonym or structure",
    responses=answer(SubstancePage),
    dependencies=[Depends(reject_unknown_query)],
)
def search_substances(
    q: str | None = Query(default=None, max_length=200, description="name or synonym (substring)"),
    smiles: str | None = Query(default=None, max_length=10_000, description="structure (SMILES/SMARTS or InChI)"),
    mode: Literal["exact", "substructure", "similarity"] = "similarity",
    threshold: float = Query(default=0.5, ge=0.0, le=1.0),
    status: Literal["controlled", "precursor", "known", "excepted"] | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    _: Principal = Depends(principal),
    state: Node = Depends(node),
):
    library = state.library.get()
    if smiles:
        hits = _by_structure(library, smiles, mode, threshold)
    else:
        needle = (q or "").casefold().strip()
        hits = [
            (s, None)
            for s in library.substances
            if not needle or needle in s.name.casefold() or any(needle in n.casefold() for n in s.synonyms)
        ]
        hits.sort(key=lambda pair: (pair[0].name.casefold() != needle, pair[0].name.casefold()))
    if status:
        hits = [(s, score) for s, score in hits if s.status == status]
    items = []
    for substance, score in hits[:limit]:
        item = substance_summary(substance)
        if score is not None:
            item["score"] = round(score, 3)
        items.append(item)
    return {"items": items, "total": len(hits)}


@router.get(
    "/substances/{substance_id}",
    summary="One reference substance with its controls and sources",
    responses=answer(SubstanceDetail),
)
def get_substance(substance_id: str, _: Principal = Depends(principal), state: Node = Depends(node)):
    substance = state.library.get().by_id.get(substance_id)
    if substance is None:
        raise not_found("substance", substance_id)
    return substance_detail(substance)
