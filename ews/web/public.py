"""Web pages: published alerts for the public, and a structure identification form.

Server-rendered HTML in the visitor's language (``?lang=`` or Accept-Language;
English, Spanish, Portuguese, French). Nothing here needs a key, so nothing
here shows drafts, restricted alerts or detections.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, func, select

from alerts.rules import SEVERITIES
from chem.depict import svg
from ews.api.deps import Node, node, session
from ews.models import Alert, Detection
from ews.schemas import country_code
from ews.web.i18n import add_words
from ews.web.render import render

router = APIRouter(include_in_schema=False)
MAX_FORM_STRUCTURES = 50

add_words(
    {
        "en": {
            "home": "Overview",
            "alerts": "Alerts",
            "match": "Identify",
            "tagline": "Early warning on new psychoactive substances",
            "latest": "Latest alerts",
            "detections": "detections",
            "published_alerts": "published alerts",
            "reference_substances": "reference substances",
            "feeds_note": "Feeds for partners and alert hubs:",
            "severity": "Severity",
            "headline": "Alert",
            "countries": "Countries",
            "country": "Country",
            "published": "Published",
            "no_alerts": "No published alerts.",
            "filter": "Filter",
            "instruction": "What to do",
            "evidence": "Evidence",
            "kind": "Kind",
            "matched": "Matched",
            "score": "Score",
            "version": "version",
            "origin": "from node",
            "match_title": "Identify structures",
            "match_help": "One structure per line: SMILES or InChI, optionally followed by a name. Nothing is stored.",
            "as_of": "As of",
            "jurisdiction": "Jurisdiction",
            "identify": "Identify",
            "input": "Input",
            "verdict": "Verdict",
            "class": "Class",
        },
        "es": {
            "home": "Resumen",
            "alerts": "Alertas",
            "match": "Identificar",
            "tagline": "Alerta temprana sobre nuevas sustancias psicoactivas",
            "latest": "Últimas alertas",
            "detections": "detecciones",
            "published_alerts": "alertas publicadas",
            "reference_substances": "sustancias de referencia",
            "feeds_note": "Fuentes para socios y concentradores de alertas:",
            "severity": "Gravedad",
            "headline": "Alerta",
            "countries": "Países",
            "country": "País",
            "published": "Publicada",
            "no_alerts": "No hay alertas publicadas.",
            "filter": "Filtrar",
            "instruction": "Qué hacer",
            "evidence": "Evidencia",
            "kind": "Tipo",
            "matched": "Coincidencia",
            "score": "Puntuación",
            "version": "versión",
            "origin": "del nodo",
            "match_title": "Identificar estructuras",
            "match_help": "Una estructura por línea: SMILES o InChI, opcionalmente seguida de un nombre. No se guarda nada.",
            "as_of": "Fecha",
            "jurisdiction": "Jurisdicción",
            "identify": "Identificar",
            "input": "Entrada",
            "verdict": "Veredicto",
            "class": "Clase",
        },
        "pt": {
            "home": "Resumo",
            "alerts": "Alertas",
            "match": "Identificar",
            "tagline": "Alerta precoce sobre novas substâncias psicoativas",
            "latest": "Últimos alertas",
            "detections": "detecções",
            "published_alerts": "alertas publicados",
            "reference_substances": "substâncias de referência",
            "feeds_note": "Feeds para parceiros e agregadores de alertas:",
            "severity": "Gravidade",
            "headline": "Alerta",
            "countries": "Países",
            "country": "País",
            "published": "Publicado",
            "no_alerts": "Nenhum alerta publicado.",
            "filter": "Filtrar",
            "instruction": "O que fazer",
            "evidence": "Evidência",
            "kind": "Tipo",
            "matched": "Correspondência",
            "score": "Pontuação",
            "version": "versão",
            "origin": "do nó",
            "match_title": "Identificar estruturas",
            "match_help": "Uma estrutura por linha: SMILES ou InChI, opcionalmente seguida de um nome. Nada é guardado.",
            "as_of": "Data",
            "jurisdiction": "Jurisdição",
            "identify": "Identificar",
            "input": "Entrada",
            "verdict": "Veredito",
            "class": "Classe",
        },
        "fr": {
            "home": "Aperçu",
            "alerts": "Alertes",
            "match": "Identifier",
            "tagline": "Alerte précoce sur les nouvelles substances psychoactives",
            "latest": "Dernières alertes",
            "detections": "détections",
            "published_alerts": "alertes publiées",
            "reference_substances": "substances de référence",
            "feeds_note": "Flux pour les partenaires et agrégateurs d'alertes :",
            "severity": "Gravité",
            "headline": "Alerte",
            "countries": "Pays",
            "country": "Pays",
            "published": "Publiée",
            "no_alerts": "Aucune alerte publiée.",
            "filter": "Filtrer",
            "instruction": "Que faire",
            "evidence": "Éléments",
            "kind": "Type",
            "matched": "Correspondance",
            "score": "Score",
            "version": "version",
            "origin": "du nœud",
            "match_title": "Identifier des structures",
            "match_help": "Une structure par ligne : SMILES ou InChI, éventuellement suivie d'un nom. Rien n'est enregistré.",
            "as_of": "Date",
            "jurisdiction": "Juridiction",
            "identify": "Identifier",
            "input": "Entrée",
            "verdict": "Verdict",
            "class": "Classe",
        },
    }
)


def public_alerts(db: Session, limit: int, severity: str | None = None, country: str | None = None) -> list[Alert]:
    query = select(Alert).where(Alert.status == "published", Alert.scope == "Public")
    if severity:
        query = query.where(Alert.severity == severity)
    rows = db.exec(query.order_by(col(Alert.published_at).desc()).limit(limit * 5 if country else limit)).all()
    return [a for a in rows if not country or country in a.countries][:limit]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: Session = Depends(session), state: Node = Depends(node)):
    counts = {
        "detections": db.exec(select(func.count()).select_from(Detection)).one(),
        "alerts": db.exec(
            select(func.count()).select_from(Alert).where(Alert.status == "published", Alert.scope == "Public")
        ).one(),
        "substances": len(state.library.get().substances),
    }
    return render(request, state, "index.html", alerts=public_alerts(db, 10), counts=counts)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    severity: str | None = None,
    country: str | None = None,
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    severity = severity if severity in SEVERITIES else None
    try:
        country = country_code(country) if country else None
    except ValueError:
        country = None
    alerts = public_alerts(db, 100, severity, country)
    return render(
        request, state, "alerts.html", alerts=alerts, severities=SEVERITIES, severity=severity, country=country
    )


@router.get("/match", response_class=HTMLResponse)
def match_form(request: Request, state: Node = Depends(node)):
    return render(
        request, state, "match.html", structures="", as_of=date.today().isoformat(), jurisdiction="UN", results=[]
    )


@router.post("/match", response_class=HTMLResponse)
def match_submit(
    request: Request,
    structures: str = Form(max_length=200_000),
    as_of: str = Form(default=""),
    jurisdiction: str = Form(default="UN"),
    state: Node = Depends(node),
):
    try:
        when = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        when = date.today()
    code = jurisdiction.strip().upper() or "UN"
    if code != "UN":
        try:
            code = country_code(code)
        except ValueError:
            code = "UN"
    results = []
    for line in [line.strip() for line in structures.splitlines() if line.strip()][:MAX_FORM_STRUCTURES]:
        text, _, name = line.partition(" ")
        fmt = "inchi" if text.startswith("InChI=") else "smiles"
        result = state.identifier.identify(text, fmt, name=name.strip() or None, jurisdiction=code, as_of=when)
        drawing = None
        if "error" not in result:
            shared = next((m.get("shared_atoms") for m in result["matches"] if m.get("shared_atoms")), ())
            drawing = svg(result["standardized"]["smiles"], size=(180, 130), highlight=tuple(shared or ()))
        results.append({"result": result, "drawing": drawing or ""})
    return render(
        request,
        state,
        "match.html",
        structures=structures,
        as_of=when.isoformat(),
        jurisdiction=code,
        results=results,
    )
