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
from chem.library import bundled_jurisdictions
from ews.api.deps import Node, node, session
from ews.api.filters import unknown_query
from ews.models import Alert, Detection
from ews.problems import field_error
from ews.schemas import country_code
from ews.web.i18n import add_words, language, words
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
            "form_errors": "Not understood, so nothing was filtered or identified:",
            "match_limit": "Only the first {shown} of {total} structures were identified; send the rest again, or use the API for more.",
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
            "form_errors": "No se entendió, así que no se filtró ni identificó nada:",
            "match_limit": "Solo se identificaron las primeras {shown} de {total} estructuras; envíe el resto de nuevo o use la API para más.",
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
            "form_errors": "Não compreendido, por isso nada foi filtrado nem identificado:",
            "match_limit": "Apenas as primeiras {shown} de {total} estruturas foram identificadas; envie o resto de novo ou use a API para mais.",
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
            "form_errors": "Non compris : rien n'a été filtré ni identifié :",
            "match_limit": "Seules les {shown} premières structures sur {total} ont été identifiées ; renvoyez le reste, ou utilisez l'API pour davantage.",
        },
    }
)

# the alert lifecycle on the alert page
add_words(
    {
        "en": {
            "alert_cancelled": "This alert has been cancelled.",
            "no_library": "No reference library is loaded.",
            "no_library_note": "Structures cannot be identified until an administrator runs `ews library load`.",
            "alert_cancelled_note": "It is kept for the record; do not act on it.",
            "alert_update_pending": "New facts have arrived; an update of this alert is about to be sent.",
            "first_seen": "first seized",
            "versions": "Versions",
            "current_version": "current",
            "superseded_by": "superseded by version",
        },
        "es": {
            "alert_cancelled": "Esta alerta ha sido cancelada.",
            "no_library": "No hay ninguna biblioteca de referencia cargada.",
            "no_library_note": "No se pueden identificar estructuras hasta que un administrador ejecute `ews library load`.",
            "alert_cancelled_note": "Se conserva como registro; no actúe en consecuencia.",
            "alert_update_pending": "Han llegado nuevos datos; se enviará en breve una actualización de esta alerta.",
            "first_seen": "primera incautación",
            "versions": "Versiones",
            "current_version": "vigente",
            "superseded_by": "reemplazada por la versión",
        },
        "pt": {
            "alert_cancelled": "Este alerta foi cancelado.",
            "no_library": "Nenhuma biblioteca de referência está carregada.",
            "no_library_note": "Não é possível identificar estruturas até que um administrador execute `ews library load`.",
            "alert_cancelled_note": "É mantido para registo; não aja com base nele.",
            "alert_update_pending": "Chegaram novos dados; uma atualização deste alerta será enviada em breve.",
            "first_seen": "primeira apreensão",
            "versions": "Versões",
            "current_version": "atual",
            "superseded_by": "substituída pela versão",
        },
        "fr": {
            "alert_cancelled": "Cette alerte a été annulée.",
            "no_library": "Aucune bibliothèque de référence n'est chargée.",
            "no_library_note": "Les structures ne peuvent pas être identifiées tant qu'un administrateur n'a pas lancé `ews library load`.",
            "alert_cancelled_note": "Elle est conservée pour mémoire ; n'agissez pas sur cette base.",
            "alert_update_pending": "De nouveaux éléments sont arrivés ; une mise à jour de cette alerte va être envoyée.",
            "first_seen": "première saisie",
            "versions": "Versions",
            "current_version": "en vigueur",
            "superseded_by": "remplacée par la version",
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
    errors = unknown_query(request)
    severity = (severity or "").strip() or None
    if severity is not None:
        known = {s.casefold(): s for s in SEVERITIES}.get(severity.casefold())
        if known is None:
            errors.append(
                field_error("severity", f"{severity!r} is not a severity; accepted: {', '.join(SEVERITIES)}")
            )
        severity = known or severity
    country = (country or "").strip() or None
    if country is not None:
        try:
            country = country_code(country)
        except ValueError as error:
            errors.append(field_error("country", str(error)))
    # a filter that was not understood shows the error, never every alert as if filtered
    alerts = [] if errors else public_alerts(db, 100, severity, country)
    return render(
        request,
        state,
        "alerts.html",
        status_code=422 if errors else 200,
        alerts=alerts,
        severities=SEVERITIES,
        severity=severity,
        country=country,
        form_errors=errors,
    )


@router.get("/match", response_class=HTMLResponse)
def match_form(request: Request, state: Node = Depends(node)):
    return render(
        request,
        state,
        "match.html",
        structures="",
        as_of=date.today().isoformat(),
        jurisdiction="UN",
        jurisdictions=bundled_jurisdictions(),
        results=[],
    )


@router.post("/match", response_class=HTMLResponse)
def match_submit(
    request: Request,
    structures: str = Form(max_length=200_000),
    as_of: str = Form(default=""),
    jurisdiction: str = Form(default="UN"),
    state: Node = Depends(node),
):
    lang = language(request)
    errors = []
    try:
        when = date.fromisoformat(as_of.strip()) if as_of.strip() else date.today()
    except ValueError:
        when = None
        errors.append(field_error("as_of", f"{as_of!r} is not a date; use YYYY-MM-DD"))
    code = jurisdiction.strip().upper() or "UN"
    if code != "UN":
        try:
            code = country_code(code)
        except ValueError as error:
            errors.append(field_error("jurisdiction", f"UN or an ISO 3166-1 alpha-2 code: {error}"))
    lines = [line.strip() for line in structures.splitlines() if line.strip()]
    notices = []
    if len(lines) > MAX_FORM_STRUCTURES:
        notices.append(words(lang)["match_limit"].format(shown=MAX_FORM_STRUCTURES, total=len(lines)))
    results = []
    for line in [] if errors or when is None else lines[:MAX_FORM_STRUCTURES]:
        text, _, name = line.partition(" ")
        fmt = "inchi" if text.startswith("InChI=") else "smiles"
        result = state.identifier.identify(
            text, fmt, name=name.strip() or None, jurisdiction=code, as_of=when, share=False
        )
        drawing = None
        if "error" not in result:
            shared = next((m.get("shared_atoms") for m in result["matches"] if m.get("shared_atoms")), ())
            drawing = svg(result["standardized"]["smiles"], size=(180, 130), highlight=tuple(shared or ()))
        results.append({"result": result, "drawing": drawing or ""})
    return render(
        request,
        state,
        "match.html",
        status_code=422 if errors else 200,
        structures=structures,
        as_of=when.isoformat() if when else as_of,
        jurisdiction=code if not errors else jurisdiction,
        jurisdictions=bundled_jurisdictions(),
        results=results,
        form_errors=errors,
        form_notices=[] if errors else notices,
    )
