"""Clusters of linked seizures: a list, and one cluster with its link chart and timeline.

The pages show what alerts already publish of a detection (country, region, date, form, sold as);
the chart is drawn in the browser by /static/clusters.js from ``GET /api/v1/clusters/{id}``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from ews.api.deps import Node, node, session
from ews.models import LinkCluster
from ews.problems import not_found
from ews.services import links as service
from ews.web.i18n import add_words
from ews.web.render import render

router = APIRouter(include_in_schema=False)

add_words(
    {
        "en": {
            "clusters": "Linked seizures",
            "clusters_intro": "Seizures whose chemical and physical profiles link them to one batch, "
            "grouped into clusters: one supply over time and across countries.",
            "substance": "Substance",
            "seizures": "Seizures",
            "countries": "Countries",
            "first_seen": "First seen",
            "last_seen": "Last seen",
            "no_clusters": "No linked seizures yet.",
            "link_chart": "Link chart (time across, countries down)",
            "timeline": "Seizures per month",
            "cluster_alert": "Alert",
        },
        "es": {
            "clusters": "Incautaciones vinculadas",
            "clusters_intro": "Incautaciones cuyos perfiles químicos y físicos las vinculan a un mismo lote, "
            "agrupadas en conglomerados: un mismo suministro en el tiempo y entre países.",
            "substance": "Sustancia",
            "seizures": "Incautaciones",
            "countries": "Países",
            "first_seen": "Primera vez",
            "last_seen": "Última vez",
            "no_clusters": "Aún no hay incautaciones vinculadas.",
            "link_chart": "Gráfico de vínculos (tiempo en horizontal, países en vertical)",
            "timeline": "Incautaciones por mes",
            "cluster_alert": "Alerta",
        },
        "pt": {
            "clusters": "Apreensões ligadas",
            "clusters_intro": "Apreensões cujos perfis químicos e físicos as ligam a um mesmo lote, agrupadas "
            "em aglomerados: um mesmo fornecimento ao longo do tempo e entre países.",
            "substance": "Substância",
            "seizures": "Apreensões",
            "countries": "Países",
            "first_seen": "Primeira vez",
            "last_seen": "Última vez",
            "no_clusters": "Ainda não há apreensões ligadas.",
            "link_chart": "Gráfico de ligações (tempo na horizontal, países na vertical)",
            "timeline": "Apreensões por mês",
            "cluster_alert": "Alerta",
        },
        "fr": {
            "clusters": "Saisies liées",
            "clusters_intro": "Saisies que leurs profils chimiques et physiques relient à un même lot, "
            "regroupées : un même approvisionnement dans le temps et entre pays.",
            "substance": "Substance",
            "seizures": "Saisies",
            "countries": "Pays",
            "first_seen": "Première fois",
            "last_seen": "Dernière fois",
            "no_clusters": "Pas encore de saisies liées.",
            "link_chart": "Graphe des liens (temps en abscisse, pays en ordonnée)",
            "timeline": "Saisies par mois",
            "cluster_alert": "Alerte",
        },
    }
)


@router.get("/clusters", response_class=HTMLResponse)
def clusters_page(request: Request, db: Session = Depends(session), state: Node = Depends(node)):
    rows = [service.cluster_summary(c) for c in service.list_clusters(db, limit=200)]
    return render(request, state, "clusters.html", clusters=rows)


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster_page(cluster_id: str, request: Request, db: Session = Depends(session), state: Node = Depends(node)):
    found = db.get(LinkCluster, cluster_id)
    if found is None:
        raise not_found("cluster", cluster_id)
    return render(request, state, "cluster.html", cluster=service.cluster_graph(db, found))
