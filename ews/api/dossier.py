"""The dossier of a substance for expedited control."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["dossier"])
