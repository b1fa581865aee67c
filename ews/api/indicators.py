"""Supply indicators per month and country, and the data of the dashboard's charts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlmodel import Session

from ews.api.answers import Dashboard, Indicators, SubstanceMonthly
from ews.api.deps import Node, node, optional_principal, session
from ews.auth import Principal
from ews.openapi import body_as
from ews.problems import field_error, invalid, not_found
from ews.services import indicators as service
from ews.services import substances

router = APIRouter(prefix="/api/v1", tags=["indicators"])

MONTH = r"^\d{4}-\d{2}$"


def _filters(
    start: str | None = Query(
        default=None, alias="from", description="first month, YYYY-MM (default: 11 months before `to`)"
    ),
    end: str | None = Query(default=None, alias="to", description="last month, YYYY-MM (default: this month)"),
    country: str | None = Query(default=None, max_length=8, description="ISO 3166-1 alpha-2 country"),
    drug_class: str | None = Query(
        default=None, alias="class", max_length=40, description="drug class of the substances followed"
    ),
) -> service.Filters:
    return service.parse_filters(start or None, end or None, country or None, drug_class or None)


def _csv(text: str, name: str) -> PlainTextResponse:
    return PlainTextResponse(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get(
    "/indicators",
    summary="Monthly supply indicators per country (definitions: docs/indicators.md)",
    responses=body_as("text/csv", model=Indicators),
)
def get_indicators(
    filters: service.Filters = Depends(_filters),
    format: Literal["json", "csv"] = "json",
    caller: Principal | None = Depends(optional_principal),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    """Per month and country: detections, distinct substances, new substances (first ever, first in
    the country), the share of samples whose content differs from what they were sold as, adulterant
    frequencies, purity of the main substances (median, quartiles), and the time from seizure to report
    and from report to the first published alert (median, 90th percentile).

    Without a key every country's counts, shares and times; the detail (sold-as terms, adulterants,
    purity) of cells with at least three detections. A lab's or authority's key adds its country's
    detail in full; regional and admin keys see all. The answer states its filters and `read_at`;
    the CSV states them in `#` comment lines above the header."""
    report = service.indicators(db, filters, caller, service.library_synonyms(state.library.get().substances))
    if format == "csv":
        return _csv(service.to_csv(report), "indicators")
    return JSONResponse(report)  # plain JSON types already: skips the slow generic encoder


@router.get(
    "/dashboard",
    summary="The data of the dashboard's charts, counted as the indicators",
    responses=body_as("text/csv", model=Dashboard),
)
def get_dashboard(
    filters: service.Filters = Depends(_filters),
    chart: str | None = Query(
        default=None, description="one chart (needed for format=csv): " + ", ".join(service.CHARTS)
    ),
    format: Literal["json", "csv"] = "json",
    caller: Principal | None = Depends(optional_principal),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    if chart is not None and chart not in service.CHARTS:
        raise invalid([field_error("chart", f"{chart!r} is not a chart; accepted: {', '.join(service.CHARTS)}")])
    if format == "csv" and chart is None:
        raise invalid([field_error("chart", f"a CSV holds one chart; name one of: {', '.join(service.CHARTS)}")])
    data = service.dashboard(db, filters, caller, service.library_synonyms(state.library.get().substances))
    if chart is None:
        return JSONResponse(data)
    if format == "csv":
        return _csv(service.table_csv(data, service.CHARTS[chart], data["charts"][chart]), chart)
    return JSONResponse({**data, "charts": {chart: data["charts"][chart]}})


@router.get(
    "/substances/{substance_id}/monthly",
    summary="Detections of one reference substance per month and country",
    responses=body_as("text/csv", model=SubstanceMonthly),
)
def get_substance_monthly(
    substance_id: str,
    format: Literal["json", "csv"] = "json",
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    """Counts only (public): every detection this node holds whose component is the substance, by the
    month of seizure (or of report, without a seizure date) and country."""
    found = state.library.get().by_id.get(substance_id)
    if found is None:
        raise not_found("substance", substance_id)
    rows = substances.monthly(substances.sightings(db, found))
    report = {
        "substance": {"id": found.id, "name": found.name},
        "filters": {"substance": found.id},
        "read_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "definitions": "docs/indicators.md",
        "rows": rows,
    }
    if format == "csv":
        return _csv(service.table_csv(report, ("month", "country", "detections"), rows), f"{found.id}-monthly")
    return report
