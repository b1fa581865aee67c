"""Request bodies: validation lives here, so that routes stay thin."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chem.errors import StructureError
from chem.read import read_structure

SAMPLE_FORMS = (
    "powder",
    "crystal",
    "tablet",
    "capsule",
    "blotter",
    "herbal material",
    "plant material",
    "resin",
    "liquid",
    "e-liquid",
    "paste",
    "patch",
    "nasal spray",
    "injectable",
    "biological specimen",
    "blood",
    "urine",
    "oral fluid",
    "hair",
    "other",
)
TECHNIQUES = (
    "GC-MS",
    "GC-FID",
    "GC-IR",
    "LC-MS",
    "LC-MS/MS",
    "LC-HRMS",
    "LC-QTOF",
    "HPLC-DAD",
    "NMR",
    "FTIR",
    "ATR-FTIR",
    "Raman",
    "XRD",
    "UV-Vis",
    "TLC",
    "colour test",
    "immunoassay",
    "DART-MS",
    "other",
)
_TECHNIQUE_LOOKUP = {t.casefold(): t for t in TECHNIQUES}


def country_code(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. CO, MX, BR)")
    return code


class Quantity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float = Field(gt=0, le=1e9)
    unit: Literal["mg", "g", "kg", "ml", "l", "units", "tablets", "blotters"]


COMPONENT_ROLES = ("active", "adulterant", "diluent", "impurity", "by_product", "unknown")
"""What a component is in the seizure (chem.profiles.ROLES)."""


class AppearanceIn(BaseModel):
    """What the seized unit looks like: the physical half of a seizure's profile."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "colour": "pink",
                    "logo": "Tesla",
                    "shape": "round",
                    "mass_mg": 312.5,
                    "diameter_mm": 9.1,
                    "packaging": "zip bag printed 'TESLA'",
                }
            ]
        },
    )
    colour: str | None = Field(default=None, max_length=100, description="colour of the unit as seen")
    logo: str | None = Field(default=None, max_length=200, description="logo or imprint on a tablet")
    shape: str | None = Field(default=None, max_length=100, description="e.g. round, rectangular, triangular")
    mass_mg: float | None = Field(default=None, gt=0, le=100_000, description="mass of one tablet, mg")
    diameter_mm: float | None = Field(default=None, gt=0, le=1_000, description="diameter of one tablet, mm")
    packaging: str | None = Field(default=None, max_length=500, description="packaging and any text on it")

    @field_validator("colour", "logo", "shape", "packaging")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return " ".join(value.split()) or None if value is not None else None


class SampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    form: str | None = Field(default=None, description="one of " + ", ".join(SAMPLE_FORMS))
    sold_as: str | None = Field(default=None, max_length=200)
    seized_on: date | None = None
    analyzed_on: date | None = None
    country: str = Field(description="ISO 3166-1 alpha-2")
    region: str | None = Field(
        default=None, max_length=200, description="sub-national region (name or ISO 3166-2)"
    )
    techniques: list[str] = Field(default_factory=list, max_length=20)
    confidence: Literal["tentative", "confirmed"] = "confirmed"
    quantity: Quantity | None = None
    purity_percent: float | None = Field(default=None, ge=0, le=100)
    appearance: AppearanceIn | None = Field(
        default=None, description="physical characteristics: colour, logo, shape, tablet mass and diameter"
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return country_code(value)

    @field_validator("form")
    @classmethod
    def _form(cls, value: str | None) -> str | None:
        if value is None:
            return None
        form = value.strip().lower()
        if form not in SAMPLE_FORMS:
            raise ValueError(f"{value!r} is not a sample form; accepted: {', '.join(SAMPLE_FORMS)}")
        return form

    @field_validator("techniques")
    @classmethod
    def _techniques(cls, values: list[str]) -> list[str]:
        normalized = []
        for value in values:
            technique = _TECHNIQUE_LOOKUP.get(value.strip().casefold())
            if technique is None:
                raise ValueError(f"{value!r} is not a technique; accepted: {', '.join(TECHNIQUES)}")
            normalized.append(technique)
        return list(dict.fromkeys(normalized))

    # each date check belongs to its own field, so an error names sample.seized_on, not sample
    @field_validator("seized_on", "analyzed_on")
    @classmethod
    def _not_in_future(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is not None and value > date.today():
            raise ValueError(f"{info.field_name} {value} is in the future")
        return value

    @field_validator("analyzed_on")
    @classmethod
    def _analyzed_after_seizure(cls, value: date | None, info: ValidationInfo) -> date | None:
        seized = info.data.get("seized_on")
        if value is not None and seized is not None and value < seized:
            raise ValueError(f"analyzed_on {value} is before seized_on {seized}")
        return value


class ComponentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    smiles: str | None = Field(default=None, max_length=10_000)
    inchi: str | None = Field(default=None, max_length=10_000)
    molfile: str | None = Field(default=None, max_length=200_000)
    name: str | None = Field(default=None, max_length=300)
    purity_percent: float | None = Field(
        default=None, ge=0, le=100, description="share of the sample, percent w/w", examples=[12.5]
    )
    amount_mg: float | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="mass per unit (tablet, blotter, capsule), mg; give this or purity_percent",
        examples=[95.0],
    )
    role: str | None = Field(
        default=None,
        description="what the component is in the seizure: one of "
        + ", ".join(COMPONENT_ROLES)
        + "; route markers are impurity or by_product",
        examples=["active"],
    )
    enantiomer_ratio: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="share of the (R)- (or (+)-) enantiomer in percent, where measured (50 = racemic)",
        examples=[50.0],
    )

    @field_validator("role")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is None:
            return None
        role = value.strip().lower().replace("-", "_").replace(" ", "_")
        if role not in COMPONENT_ROLES:
            raise ValueError(f"must be one of {', '.join(COMPONENT_ROLES)}; got {value!r}")
        return role

    @model_validator(mode="after")
    def _one_structure(self) -> ComponentIn:
        given = [f for f in ("smiles", "inchi", "molfile") if getattr(self, f)]
        if len(given) != 1:
            raise ValueError("give the structure as exactly one of smiles, inchi or molfile")
        return self

    @property
    def structure(self) -> tuple[str, str]:
        for fmt in ("smiles", "inchi", "molfile"):
            value = getattr(self, fmt)
            if value:
                return fmt, value
        raise ValueError("no structure")


class ReportedComponentIn(ComponentIn):
    """A component of a detection: its structure must be readable, checked with the other fields.

    Reading here (cheap) rather than only when identifying (slow) lets one 422
    name every bad field of a request: a wrong country and an unreadable SMILES together.
    """

    @field_validator("smiles", "inchi", "molfile")
    @classmethod
    def _readable(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value:
            try:
                _check_readable(value, info.field_name)
            except StructureError as error:
                raise PydanticCustomError(error.code, "{message}", {"message": error.message}) from None
        return value


READABLE_CACHE_SIZE = 4096
"""Structures this process has read without error, kept so that a lab's hundredth cocaine is not parsed
again to be validated (whether a text reads depends only on the text and this process's code)."""
_CACHED_TEXT_CHARS = 2_000
"""Longer texts (Molfiles) are read each time: the cache stays small."""


@lru_cache(maxsize=READABLE_CACHE_SIZE)
def _readable_once(value: str, fmt: str | None) -> None:
    read_structure(value, fmt)  # an error is raised, and not cached


def _check_readable(value: str, fmt: str | None) -> None:
    if len(value) <= _CACHED_TEXT_CHARS:
        _readable_once(value, fmt)
    else:
        read_structure(value, fmt)


class DetectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_ref: str | None = Field(default=None, max_length=200)
    sample: SampleIn
    components: list[ReportedComponentIn] = Field(min_length=1, max_length=50)
    case_ref: str | None = Field(default=None, max_length=200, description="private to the submitting lab")
    notes: str | None = Field(default=None, max_length=10_000, description="private to the submitting lab")


class MatchIn(BaseModel):
    """Structures to match: a list under ``structures`` (or ``components``, as in a detection),
    or one structure given directly (``smiles``, ``inchi`` or ``molfile``, with an optional ``name``)."""

    model_config = ConfigDict(extra="forbid")
    structures: list[ComponentIn] | None = Field(default=None, min_length=1, max_length=1000)
    components: list[ComponentIn] | None = Field(default=None, min_length=1, max_length=1000)
    smiles: str | None = Field(default=None, max_length=10_000)
    inchi: str | None = Field(default=None, max_length=10_000)
    molfile: str | None = Field(default=None, max_length=200_000)
    name: str | None = Field(default=None, max_length=300)
    as_of: date | None = None
    jurisdiction: str = "UN"

    @model_validator(mode="after")
    def _something_to_match(self) -> MatchIn:
        given = [k for k in ("structures", "components") if getattr(self, k)]
        single = [k for k in ("smiles", "inchi", "molfile") if getattr(self, k)]
        if len(given) + (1 if single else 0) != 1 or len(single) > 1:
            raise ValueError(
                "give either a list under 'structures' (or 'components'), or one smiles, inchi or molfile"
            )
        return self

    @property
    def items(self) -> list[ComponentIn]:
        if self.structures or self.components:
            return list(self.structures or self.components or [])
        return [ComponentIn(smiles=self.smiles, inchi=self.inchi, molfile=self.molfile, name=self.name)]

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        if value.strip().upper() == "UN":
            return "UN"
        try:
            return country_code(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a jurisdiction; accepted: UN or an ISO 3166-1 alpha-2 code (CO, MX, GB)"
            ) from None


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["lab", "authority", "regional", "admin"]
    country: str | None = None
    contact_email: str | None = Field(
        default=None,
        max_length=320,
        pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$",
        description="told when one of the organisation's webhooks is disabled",
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else country_code(value)


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Literal["lab", "authority", "regional", "admin"]] | None = None
    label: str | None = Field(default=None, max_length=200)
