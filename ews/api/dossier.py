"""The dossier of a substance for expedited international control, as HTML or PDF, in four languages."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from alerts.texts import class_label, country_name
from ews.api.deps import Node, node, require, session
from ews.auth import Principal
from ews.openapi import body_as
from ews.services import dossier as service

router = APIRouter(prefix="/api/v1", tags=["dossier"])

HERE = Path(__file__).resolve().parent.parent
STYLESHEET = HERE / "static" / "dossier.css"
_templates = Environment(
    loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]), trim_blocks=True
)

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "v_controlled": "controlled",
        "v_precursor": "precursor",
        "v_analog": "analog of a controlled substance",
        "v_known": "known, not controlled",
        "v_no_match": "no match",
        "title": "Substance dossier",
        "subtitle": "for expedited national and international control",
        "identity": "Identity",
        "names": "Names",
        "formula": "Formula",
        "exact_mass": "Monoisotopic mass",
        "mol_weight": "Molecular weight",
        "chemistry": "Chemistry and nearest controlled analogs",
        "verdict": "Verdict",
        "class": "Class",
        "families": "Drug families",
        "analog": "Controlled analog",
        "similarity": "Similarity",
        "shared_atoms": "atoms of the shared scaffold (highlighted)",
        "legal": "Legal status by jurisdiction",
        "jurisdiction": "Jurisdiction",
        "instrument": "Instrument",
        "schedule": "Schedule",
        "since": "In force since",
        "basis": "Basis",
        "not_controlled": "not controlled",
        "generic": "Generic definitions that cover it",
        "none": "none",
        "detections": "Detections by country and month",
        "month": "Month",
        "total": "Total",
        "first": "First detections",
        "country": "Country",
        "region": "Region",
        "date": "Date",
        "node": "Node",
        "forms": "Forms and what it was sold as",
        "form": "Form",
        "sold_as": "Sold as",
        "count": "Count",
        "co_occurring": "Co-occurring substances",
        "substance": "Substance",
        "clusters": "Linked clusters (one supply)",
        "seizures": "Seizures",
        "first_seen": "First seen",
        "last_seen": "Last seen",
        "alerts": "Alerts issued",
        "severity": "Severity",
        "rule": "Rule",
        "published": "Published",
        "provenance": "Provenance",
        "prov_node": "Compiled by node",
        "prov_read": "Data read at",
        "prov_from": "Detections from nodes",
        "prov_library": "Reference library version",
        "prov_asof": "Legal status as of",
        "prov_sources": "Listing sources",
        "prov_note": "Figures count distinct detections stored on this node (its own and those imported from "
        "peer nodes), dated by seizure date or, if absent, the date reported; nothing private to a "
        "laboratory is included.",
    },
    "es": {
        "v_controlled": "fiscalizada",
        "v_precursor": "precursor",
        "v_analog": "análogo de una sustancia fiscalizada",
        "v_known": "conocida, no fiscalizada",
        "v_no_match": "sin coincidencia",
        "title": "Expediente de la sustancia",
        "subtitle": "para la fiscalización nacional e internacional acelerada",
        "identity": "Identidad",
        "names": "Nombres",
        "formula": "Fórmula",
        "exact_mass": "Masa monoisotópica",
        "mol_weight": "Masa molecular",
        "chemistry": "Química y análogos fiscalizados más próximos",
        "verdict": "Dictamen",
        "class": "Clase",
        "families": "Familias de drogas",
        "analog": "Análogo fiscalizado",
        "similarity": "Similitud",
        "shared_atoms": "átomos del esqueleto común (resaltados)",
        "legal": "Situación jurídica por jurisdicción",
        "jurisdiction": "Jurisdicción",
        "instrument": "Instrumento",
        "schedule": "Lista",
        "since": "En vigor desde",
        "basis": "Fundamento",
        "not_controlled": "no fiscalizada",
        "generic": "Definiciones genéricas que la abarcan",
        "none": "ninguna",
        "detections": "Detecciones por país y mes",
        "month": "Mes",
        "total": "Total",
        "first": "Primeras detecciones",
        "country": "País",
        "region": "Región",
        "date": "Fecha",
        "node": "Nodo",
        "forms": "Formas y cómo se vendió",
        "form": "Forma",
        "sold_as": "Vendida como",
        "count": "Número",
        "co_occurring": "Sustancias concurrentes",
        "substance": "Sustancia",
        "clusters": "Conglomerados vinculados (un mismo suministro)",
        "seizures": "Incautaciones",
        "first_seen": "Primera vez",
        "last_seen": "Última vez",
        "alerts": "Alertas emitidas",
        "severity": "Gravedad",
        "rule": "Regla",
        "published": "Publicada",
        "provenance": "Procedencia",
        "prov_node": "Elaborado por el nodo",
        "prov_read": "Datos leídos el",
        "prov_from": "Detecciones de los nodos",
        "prov_library": "Versión de la biblioteca de referencia",
        "prov_asof": "Situación jurídica a fecha de",
        "prov_sources": "Fuentes de las listas",
        "prov_note": "Las cifras cuentan detecciones distintas almacenadas en este nodo (propias e importadas "
        "de nodos asociados), fechadas por la fecha de incautación o, en su defecto, la de notificación; no "
        "se incluye nada privado de un laboratorio.",
    },
    "pt": {
        "v_controlled": "controlada",
        "v_precursor": "precursor",
        "v_analog": "análogo de uma substância controlada",
        "v_known": "conhecida, não controlada",
        "v_no_match": "sem correspondência",
        "title": "Dossiê da substância",
        "subtitle": "para o controle nacional e internacional acelerado",
        "identity": "Identidade",
        "names": "Nomes",
        "formula": "Fórmula",
        "exact_mass": "Massa monoisotópica",
        "mol_weight": "Massa molecular",
        "chemistry": "Química e análogos controlados mais próximos",
        "verdict": "Parecer",
        "class": "Classe",
        "families": "Famílias de drogas",
        "analog": "Análogo controlado",
        "similarity": "Similaridade",
        "shared_atoms": "átomos do esqueleto comum (destacados)",
        "legal": "Situação jurídica por jurisdição",
        "jurisdiction": "Jurisdição",
        "instrument": "Instrumento",
        "schedule": "Lista",
        "since": "Em vigor desde",
        "basis": "Fundamento",
        "not_controlled": "não controlada",
        "generic": "Definições genéricas que a abrangem",
        "none": "nenhuma",
        "detections": "Detecções por país e mês",
        "month": "Mês",
        "total": "Total",
        "first": "Primeiras detecções",
        "country": "País",
        "region": "Região",
        "date": "Data",
        "node": "Nó",
        "forms": "Formas e como foi vendida",
        "form": "Forma",
        "sold_as": "Vendida como",
        "count": "Número",
        "co_occurring": "Substâncias concomitantes",
        "substance": "Substância",
        "clusters": "Aglomerados ligados (um mesmo fornecimento)",
        "seizures": "Apreensões",
        "first_seen": "Primeira vez",
        "last_seen": "Última vez",
        "alerts": "Alertas emitidos",
        "severity": "Gravidade",
        "rule": "Regra",
        "published": "Publicado",
        "provenance": "Proveniência",
        "prov_node": "Elaborado pelo nó",
        "prov_read": "Dados lidos em",
        "prov_from": "Detecções dos nós",
        "prov_library": "Versão da biblioteca de referência",
        "prov_asof": "Situação jurídica em",
        "prov_sources": "Fontes das listas",
        "prov_note": "Os números contam detecções distintas armazenadas neste nó (próprias e importadas de nós "
        "parceiros), datadas pela data de apreensão ou, na falta dela, pela data de notificação; nada privado "
        "de um laboratório é incluído.",
    },
    "fr": {
        "v_controlled": "contrôlée",
        "v_precursor": "précurseur",
        "v_analog": "analogue d'une substance contrôlée",
        "v_known": "connue, non contrôlée",
        "v_no_match": "aucune correspondance",
        "title": "Dossier de la substance",
        "subtitle": "pour un contrôle national et international accéléré",
        "identity": "Identité",
        "names": "Noms",
        "formula": "Formule",
        "exact_mass": "Masse monoisotopique",
        "mol_weight": "Masse molaire",
        "chemistry": "Chimie et analogues contrôlés les plus proches",
        "verdict": "Verdict",
        "class": "Classe",
        "families": "Familles de drogues",
        "analog": "Analogue contrôlé",
        "similarity": "Similarité",
        "shared_atoms": "atomes du squelette commun (surlignés)",
        "legal": "Statut juridique par juridiction",
        "jurisdiction": "Juridiction",
        "instrument": "Instrument",
        "schedule": "Tableau",
        "since": "En vigueur depuis",
        "basis": "Fondement",
        "not_controlled": "non contrôlée",
        "generic": "Définitions génériques qui la couvrent",
        "none": "aucune",
        "detections": "Détections par pays et par mois",
        "month": "Mois",
        "total": "Total",
        "first": "Premières détections",
        "country": "Pays",
        "region": "Région",
        "date": "Date",
        "node": "Nœud",
        "forms": "Formes et ce sous quoi elle a été vendue",
        "form": "Forme",
        "sold_as": "Vendue comme",
        "count": "Nombre",
        "co_occurring": "Substances associées",
        "substance": "Substance",
        "clusters": "Groupes de saisies liées (un même approvisionnement)",
        "seizures": "Saisies",
        "first_seen": "Première fois",
        "last_seen": "Dernière fois",
        "alerts": "Alertes émises",
        "severity": "Gravité",
        "rule": "Règle",
        "published": "Publiée",
        "provenance": "Provenance",
        "prov_node": "Établi par le nœud",
        "prov_read": "Données lues le",
        "prov_from": "Détections des nœuds",
        "prov_library": "Version de la bibliothèque de référence",
        "prov_asof": "Statut juridique au",
        "prov_sources": "Sources des listes",
        "prov_note": "Les chiffres comptent les détections distinctes enregistrées sur ce nœud (les siennes et "
        "celles importées des nœuds partenaires), datées par la date de saisie ou, à défaut, de signalement ; "
        "rien de privé à un laboratoire n'y figure.",
    },
}


def render_html(data: dict, lang: str, for_pdf: bool = False) -> str:
    template = _templates.get_template("dossier.html")
    return template.render(
        d=data,
        lang=lang,
        t=WORDS[lang],
        for_pdf=for_pdf,
        country=lambda code: country_name(code, lang) if code and code not in ("UN",) else (code or ""),
        label=lambda drug_class: class_label(drug_class, lang),
    )


def render_pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML  # imported on use: pango loads once, only on nodes that print

    return HTML(string=html, base_url=str(HERE)).write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])


@router.get(
    "/substances/{substance_id}/dossier",
    summary="The dossier of a substance for expedited control (HTML or PDF, en/es/pt/fr)",
    description=(
        "`substance_id` is a reference substance's id or a detected substance's InChIKey (or its first "
        "block). Identity, chemistry and nearest controlled analogs with the shared scaffold, legal status by "
        "jurisdiction, generic definitions, detections by country and month, first detections, forms and "
        "what it was sold as, co-occurring substances, linked clusters, alerts issued, and the provenance of "
        "every figure. For authority, regional and admin keys: it aggregates detections of every country."
    ),
    response_class=HTMLResponse,
    responses=body_as("application/pdf", description="the dossier: HTML, or PDF with format=pdf"),
)
async def substance_dossier(
    substance_id: str,
    format: Literal["html", "pdf"] = Query(default="html"),
    lang: Literal["en", "es", "pt", "fr"] = Query(default="en"),
    _: Principal = Depends(require("authority", "regional", "admin")),
    db: Session = Depends(session),
    state: Node = Depends(node),
) -> Response:
    data = await run_in_threadpool(
        service.build, db, state.library, state.identifier, state.settings.node_id, substance_id
    )
    html = render_html(data, lang, for_pdf=format == "pdf")
    if format == "html":
        return HTMLResponse(html)
    pdf = await run_in_threadpool(render_pdf, html)
    filename = f"dossier-{substance_id[:40]}-{lang}.pdf".replace('"', "")
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )
