"""Web pages of the indicators: the dashboard, and the substance search and substance pages.

Charts are drawn in the browser (``/static/charts.js``) from the JSON the page
fetches from the API, so what is drawn is what the CSV download holds. The
filters live in the URL. Pages take the visitor as a ``Principal`` or None;
public visitors see counts, signed-in people the detail their role allows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from chem.classes import CLASSES
from chem.depict import svg
from ews.api.deps import Node, node, session
from ews.auth import Principal
from ews.problems import Problem, not_found
from ews.services import indicators, substances
from ews.web import formats
from ews.web.i18n import add_words, language
from ews.web.render import render

router = APIRouter(include_in_schema=False)

add_words(
    {
        "en": {
            "dashboard": "Dashboard",
            "substances": "Substances",
            "dashboard_title": "Indicators of supply",
            "from_month": "From (month)",
            "to_month": "To (month)",
            "all_countries": "all countries",
            "all_classes": "all classes",
            "apply": "Apply",
            "chart_by_class": "Detections per month by drug class",
            "chart_new_by_quarter": "New substances per quarter (first detection anywhere)",
            "chart_first_by_country": "First detections per country",
            "chart_delays": "Time from seizure to published alert",
            "chart_sold_as": "Sold as, and what was found",
            "chart_adulterants": "Most frequent adulterants",
            "download_csv": "Download CSV",
            "filters_label": "Filters",
            "read_at": "Data read",
            "loading": "Loading…",
            "no_data": "No data for these filters.",
            "definitions": "How each figure is counted",
            "seizure_to_report": "seizure → report",
            "report_to_alert": "report → alert",
            "median": "median",
            "days": "days",
            "samples": "samples",
            "first_in_country": "substances first detected in the country",
            "new_substances": "new substances",
            "detail_note": "Sold-as and adulterant detail is shown for cells of at least 3 detections, and in full to the country's labs and authority.",
            "search_substances": "Search substances",
            "search_help": "A name, synonym, InChIKey, or a pasted SMILES or InChI.",
            "search": "Search",
            "name": "Name",
            "status": "Status",
            "formula": "Formula",
            "similarity": "Similarity",
            "no_results": "No substance found.",
            "structure_error": "The structure could not be read",
            "identifiers": "Identifiers",
            "synonyms": "Synonyms",
            "exact_mass": "Exact mass",
            "controls": "Controls by jurisdiction",
            "instrument": "Instrument",
            "schedule": "Schedule",
            "since": "Since",
            "until": "Until",
            "source": "Source",
            "first_detections": "First detection per country",
            "month": "Month",
            "date": "Date",
            "region": "Region",
            "detections_per_month": "Detections per month",
            "alerts_about": "Alerts about this substance",
            "nearest_analogs": "Nearest controlled substances",
            "shared_part": "shared part highlighted",
            "not_detected": "Not detected on this node.",
            "no_controls": "No control recorded in the library.",
            "structure_of": "Structure of",
            "status_controlled": "controlled",
            "status_precursor": "precursor",
            "status_known": "known",
            "status_excepted": "excepted",
            "main_nav": "Main",
            "data_table": "Numbers as a table",
        },
        "es": {
            "dashboard": "Panel",
            "substances": "Sustancias",
            "dashboard_title": "Indicadores de la oferta",
            "from_month": "Desde (mes)",
            "to_month": "Hasta (mes)",
            "all_countries": "todos los países",
            "all_classes": "todas las clases",
            "apply": "Aplicar",
            "chart_by_class": "Detecciones por mes según clase de droga",
            "chart_new_by_quarter": "Sustancias nuevas por trimestre (primera detección en cualquier lugar)",
            "chart_first_by_country": "Primeras detecciones por país",
            "chart_delays": "Tiempo desde la incautación hasta la alerta publicada",
            "chart_sold_as": "Vendido como, y lo que se encontró",
            "chart_adulterants": "Adulterantes más frecuentes",
            "download_csv": "Descargar CSV",
            "filters_label": "Filtros",
            "read_at": "Datos leídos",
            "loading": "Cargando…",
            "no_data": "No hay datos para estos filtros.",
            "definitions": "Cómo se cuenta cada cifra",
            "seizure_to_report": "incautación → informe",
            "report_to_alert": "informe → alerta",
            "median": "mediana",
            "days": "días",
            "samples": "muestras",
            "first_in_country": "sustancias detectadas por primera vez en el país",
            "new_substances": "sustancias nuevas",
            "detail_note": "El detalle de lo vendido y de los adulterantes se muestra en celdas de al menos 3 detecciones, y completo a los laboratorios y la autoridad del país.",
            "search_substances": "Buscar sustancias",
            "search_help": "Un nombre, sinónimo, InChIKey, o un SMILES o InChI pegado.",
            "search": "Buscar",
            "name": "Nombre",
            "status": "Estado",
            "formula": "Fórmula",
            "similarity": "Similitud",
            "no_results": "No se encontró ninguna sustancia.",
            "structure_error": "No se pudo leer la estructura",
            "identifiers": "Identificadores",
            "synonyms": "Sinónimos",
            "exact_mass": "Masa exacta",
            "controls": "Fiscalización por jurisdicción",
            "instrument": "Instrumento",
            "schedule": "Lista",
            "since": "Desde",
            "until": "Hasta",
            "source": "Fuente",
            "first_detections": "Primera detección por país",
            "month": "Mes",
            "date": "Fecha",
            "region": "Región",
            "detections_per_month": "Detecciones por mes",
            "alerts_about": "Alertas sobre esta sustancia",
            "nearest_analogs": "Sustancias fiscalizadas más cercanas",
            "shared_part": "parte común resaltada",
            "not_detected": "No detectada en este nodo.",
            "no_controls": "La biblioteca no registra fiscalización.",
            "structure_of": "Estructura de",
            "status_controlled": "fiscalizada",
            "status_precursor": "precursor",
            "status_known": "conocida",
            "status_excepted": "exceptuada",
            "main_nav": "Principal",
            "data_table": "Las cifras en una tabla",
        },
        "pt": {
            "dashboard": "Painel",
            "substances": "Substâncias",
            "dashboard_title": "Indicadores da oferta",
            "from_month": "De (mês)",
            "to_month": "Até (mês)",
            "all_countries": "todos os países",
            "all_classes": "todas as classes",
            "apply": "Aplicar",
            "chart_by_class": "Detecções por mês segundo a classe de droga",
            "chart_new_by_quarter": "Novas substâncias por trimestre (primeira detecção em qualquer lugar)",
            "chart_first_by_country": "Primeiras detecções por país",
            "chart_delays": "Tempo da apreensão ao alerta publicado",
            "chart_sold_as": "Vendido como, e o que foi encontrado",
            "chart_adulterants": "Adulterantes mais frequentes",
            "download_csv": "Baixar CSV",
            "filters_label": "Filtros",
            "read_at": "Dados lidos",
            "loading": "Carregando…",
            "no_data": "Sem dados para estes filtros.",
            "definitions": "Como cada número é contado",
            "seizure_to_report": "apreensão → relatório",
            "report_to_alert": "relatório → alerta",
            "median": "mediana",
            "days": "dias",
            "samples": "amostras",
            "first_in_country": "substâncias detectadas pela primeira vez no país",
            "new_substances": "novas substâncias",
            "detail_note": "O detalhe do que foi vendido e dos adulterantes aparece em células de pelo menos 3 detecções, e completo para os laboratórios e a autoridade do país.",
            "search_substances": "Buscar substâncias",
            "search_help": "Um nome, sinônimo, InChIKey, ou um SMILES ou InChI colado.",
            "search": "Buscar",
            "name": "Nome",
            "status": "Situação",
            "formula": "Fórmula",
            "similarity": "Similaridade",
            "no_results": "Nenhuma substância encontrada.",
            "structure_error": "Não foi possível ler a estrutura",
            "identifiers": "Identificadores",
            "synonyms": "Sinônimos",
            "exact_mass": "Massa exata",
            "controls": "Controle por jurisdição",
            "instrument": "Instrumento",
            "schedule": "Lista",
            "since": "Desde",
            "until": "Até",
            "source": "Fonte",
            "first_detections": "Primeira detecção por país",
            "month": "Mês",
            "date": "Data",
            "region": "Região",
            "detections_per_month": "Detecções por mês",
            "alerts_about": "Alertas sobre esta substância",
            "nearest_analogs": "Substâncias controladas mais próximas",
            "shared_part": "parte comum destacada",
            "not_detected": "Não detectada neste nó.",
            "no_controls": "A biblioteca não registra controle.",
            "structure_of": "Estrutura de",
            "status_controlled": "controlada",
            "status_precursor": "precursor",
            "status_known": "conhecida",
            "status_excepted": "excetuada",
            "main_nav": "Principal",
            "data_table": "Os números numa tabela",
        },
        "fr": {
            "dashboard": "Tableau de bord",
            "substances": "Substances",
            "dashboard_title": "Indicateurs de l'offre",
            "from_month": "Du (mois)",
            "to_month": "Au (mois)",
            "all_countries": "tous les pays",
            "all_classes": "toutes les classes",
            "apply": "Appliquer",
            "chart_by_class": "Détections par mois selon la classe de drogue",
            "chart_new_by_quarter": "Nouvelles substances par trimestre (première détection où que ce soit)",
            "chart_first_by_country": "Premières détections par pays",
            "chart_delays": "Délai de la saisie à l'alerte publiée",
            "chart_sold_as": "Vendu comme, et ce qui a été trouvé",
            "chart_adulterants": "Adultérants les plus fréquents",
            "download_csv": "Télécharger le CSV",
            "filters_label": "Filtres",
            "read_at": "Données lues",
            "loading": "Chargement…",
            "no_data": "Aucune donnée pour ces filtres.",
            "definitions": "Comment chaque chiffre est compté",
            "seizure_to_report": "saisie → rapport",
            "report_to_alert": "rapport → alerte",
            "median": "médiane",
            "days": "jours",
            "samples": "échantillons",
            "first_in_country": "substances détectées pour la première fois dans le pays",
            "new_substances": "nouvelles substances",
            "detail_note": "Le détail des ventes et des adultérants est montré pour les cellules d'au moins 3 détections, et en entier aux laboratoires et à l'autorité du pays.",
            "search_substances": "Rechercher des substances",
            "search_help": "Un nom, un synonyme, une InChIKey, ou un SMILES ou InChI collé.",
            "search": "Rechercher",
            "name": "Nom",
            "status": "Statut",
            "formula": "Formule",
            "similarity": "Similarité",
            "no_results": "Aucune substance trouvée.",
            "structure_error": "La structure n'a pas pu être lue",
            "identifiers": "Identifiants",
            "synonyms": "Synonymes",
            "exact_mass": "Masse exacte",
            "controls": "Contrôle par juridiction",
            "instrument": "Instrument",
            "schedule": "Tableau",
            "since": "Depuis",
            "until": "Jusqu'au",
            "source": "Source",
            "first_detections": "Première détection par pays",
            "month": "Mois",
            "date": "Date",
            "region": "Région",
            "detections_per_month": "Détections par mois",
            "alerts_about": "Alertes sur cette substance",
            "nearest_analogs": "Substances contrôlées les plus proches",
            "shared_part": "partie commune surlignée",
            "not_detected": "Non détectée sur ce nœud.",
            "no_controls": "Aucun contrôle enregistré dans la bibliothèque.",
            "structure_of": "Structure de",
            "status_controlled": "contrôlée",
            "status_precursor": "précurseur",
            "status_known": "connue",
            "status_excepted": "exemptée",
            "main_nav": "Principal",
            "data_table": "Les chiffres dans un tableau",
        },
    }
)

CHART_ORDER = ("by_class", "new_by_quarter", "first_by_country", "delays", "sold_as", "adulterants")


def viewer(request: Request) -> Principal | None:
    """The signed-in person, when sign-in has put one on the request; None for the public."""
    found = getattr(request.state, "principal", None)
    return found if isinstance(found, Principal) else None


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, state: Node = Depends(node)):
    lang = language(request)
    params = request.query_params
    try:
        filters = indicators.parse_filters(
            params.get("from"), params.get("to"), params.get("country"), params.get("class") or None
        )
        problem = None
    except Problem as error:
        filters = indicators.parse_filters(None, None, None, None)
        problem = "; ".join(e["message"] for e in error.errors)
    stated = filters.stated()
    query = urlencode({k: v for k, v in stated.items() if v})
    classes = sorted(CLASSES, key=lambda c: formats.drug_class(c, lang))
    labels = {c: formats.drug_class(c, lang) for c in (*CLASSES, "unclassified")}
    return render(
        request,
        state,
        "dashboard.html",
        filters=stated,
        query=query,
        problem=problem,
        classes=classes,
        charts=CHART_ORDER,
        labels_json=json.dumps(labels, ensure_ascii=False),
    )


@lru_cache(maxsize=512)
def _drawing(smiles: str, size: tuple[int, int], highlight: tuple[int, ...] = ()) -> str:
    return svg(smiles, size=size, highlight=highlight) or ""


@router.get("/substances", response_class=HTMLResponse)
def substance_search(
    request: Request,
    q: str = Query(default="", max_length=10_000),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    library = state.library.get()
    hits = substances.search(library, q)
    counts = substances.detection_counts(db, [s for s, _ in hits])
    error = substances.is_structure_error(library, q) if q and not hits else None
    return render(
        request,
        state,
        "substances.html",
        q=q,
        hits=hits,
        counts=counts,
        error=error,
        total=len(library.substances),
    )


@router.get("/substances/{substance_id}", response_class=HTMLResponse)
def substance_page(
    substance_id: str, request: Request, db: Session = Depends(session), state: Node = Depends(node)
):
    library = state.library.get()
    substance = library.by_id.get(substance_id)
    if substance is None:
        raise not_found("substance", substance_id)
    who = viewer(request)
    found = substances.sightings(db, substance)
    smiles = substance.standardized.smiles if substance.standardized else ""
    analogs = [
        {
            **a,
            "here": _drawing(smiles, (220, 160), a["shared_atoms"]),
            "there": _drawing(a["substance"].standardized.smiles, (220, 160))
            if a["substance"].standardized
            else "",
        }
        for a in substances.nearest_controlled(state.identifier, substance)
    ]
    return render(
        request,
        state,
        "substance.html",
        substance=substance,
        inchi=substances.inchi_of(substance),
        drawing=_drawing(smiles, (360, 260)) if smiles else "",
        controls=sorted(
            substance.controls, key=lambda c: (c.jurisdiction or "", c.controlled_since or datetime.min.date())
        ),
        firsts=substances.first_by_country(found, who),
        total=len(found),
        alerts=substances.alerts_about(db, substance, who),
        analogs=analogs,
        read_at=datetime.now(UTC),
    )
