"""Which alerts a subscription wants: filters on countries, regions, severity and class.

>>> wants({"countries": ["CO", "PE"], "min_severity": "Severe"},
...       {"countries": ["CO"], "severity": "Extreme", "substance": {"class": "opioid"}, "regions": []})
True
>>> wants({"classes": ["cathinone"]}, {"countries": ["CO"], "severity": "Extreme", "substance": {"class": "opioid"}})
False
"""

from __future__ import annotations

from alerts.rules import SEVERITIES, severity_rank

FILTER_KEYS = ("countries", "regions", "min_severity", "classes")


def normalize_filters(filters: dict | None) -> dict:
    """Validated filters; raises ValueError naming the bad key and what is accepted."""
    filters = dict(filters or {})
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise ValueError(f"filters: unknown key(s) {sorted(unknown)}; accepted: {', '.join(FILTER_KEYS)}")
    result: dict = {}
    if filters.get("countries"):
        result["countries"] = sorted({str(c).upper() for c in filters["countries"]})
    if filters.get("regions"):
        result["regions"] = sorted({str(r) for r in filters["regions"]})
    if filters.get("min_severity"):
        if filters["min_severity"] not in SEVERITIES:
            raise ValueError(f"filters.min_severity: one of {', '.join(SEVERITIES)}")
        result["min_severity"] = filters["min_severity"]
    if filters.get("classes"):
        result["classes"] = sorted({str(c) for c in filters["classes"]})
    return result


def wants(filters: dict, alert: dict) -> bool:
    """Whether an alert (its public view) passes a subscription's filters."""
    countries = filters.get("countries")
    if countries and not set(countries) & set(alert.get("countries", [])):
        return False
    regions = filters.get("regions")
    if regions:
        names = {r.get("region") for r in alert.get("regions", [])} | {
            f"{r.get('country')}-{r.get('region')}" for r in alert.get("regions", [])
        }
        if not set(regions) & names:
            return False
    minimum = filters.get("min_severity")
    if minimum and severity_rank(alert.get("severity", "Unknown")) > severity_rank(minimum):
        return False
    classes = filters.get("classes")
    return not (classes and (alert.get("substance") or {}).get("class") not in classes)
