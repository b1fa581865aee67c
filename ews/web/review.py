"""The analyst's pages: the review queue, editing an alert in four languages, and the alert page.

Everything here goes through ``ews.services.review`` — the same reading rules
(``can_read``, ``can_review``) and the same actions as the API — with the
signed-in person as the principal, so the audit log names them.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import lru_cache
from types import SimpleNamespace
from typing import cast

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from alerts.rules import CERTAINTIES, SEVERITIES, URGENCIES, severity_rank
from alerts.texts import LANGUAGES
from chem.depict import svg
from ews.api.deps import Node, node, session
from ews.audit import audit
from ews.auth import Principal
from ews.db import session_scope
from ews.models import Alert, AlertDetection, AlertVersion, Detection, Organisation
from ews.problems import Problem, field_error, invalid
from ews.services import review
from ews.services.alerting import alert_detections
from ews.web import vocabulary  # noqa: F401  (registers the translated vocabulary)
from ews.web.i18n import add_words, language
from ews.web.render import render
from ews.web.session import current_user, page_roles

router = APIRouter(include_in_schema=False)
REVIEWERS = ("authority", "regional", "admin")
QUEUE_LIMIT = 50  # drafts drawn per page; the rest wait their turn (count shown)
TEXT_FIELDS = ("headline", "description", "instruction")

add_words(
    {
        "en": {
            "review_title": "Drafts waiting for review",
            "review_help": "Most severe first, then newest. Publishing sends the alert to subscribers and the public feeds.",
            "review_empty": "No drafts are waiting for you.",
            "publish": "Publish",
            "dismiss": "Dismiss",
            "dismiss_reason": "Reason for dismissing (required)",
            "edit": "Edit",
            "edit_title": "Edit the alert in every language",
            "edit_help": "One save is one new version: a published alert sends one CAP Update with all four languages.",
            "save": "Save",
            "update_alert": "Update",
            "cancel_alert": "Cancel this alert",
            "cancel_reason": "Reason for cancelling",
            "detections_behind": "Detections behind it",
            "by_month": "By month of seizure",
            "month": "Month",
            "count": "Count",
            "seized_on": "Seized",
            "region": "Region",
            "form": "Form",
            "sold_as": "Sold as",
            "versions": "Version history",
            "msg_type": "Message",
            "sent": "Sent",
            "by": "By",
            "changed": "What changed",
            "first_version": "first publication",
            "controls_in_force": "Controls by jurisdiction",
            "instrument": "Instrument",
            "schedule": "Schedule",
            "since": "Since",
            "until": "Until",
            "in_force": "In force",
            "yes": "yes",
            "no": "no",
            "no_controls": "No control applies to this substance in the reference library: an early-warning case.",
            "substance_page": "Substance page",
            "status": "Status",
            "banner_cancelled": "This alert was cancelled. It no longer applies.",
            "banner_dismissed": "This draft was dismissed by an analyst and was never published.",
            "banner_draft": "Draft: not published yet. Only reviewers see it.",
            "banner_superseded": "This is version {version}; it was superseded by version {latest}.",
            "see_latest": "See the current version",
            "reason": "Reason",
            "done_published": "Published.",
            "done_dismissed": "Dismissed.",
            "done_saved": "Saved.",
            "done_cancelled": "Cancelled.",
            "done_unchanged": "Nothing changed; nothing was sent.",
            "rule": "Rule",
            "urgency": "Urgency",
            "certainty": "Certainty",
            "scope": "Scope",
            "reasons": "Why",
            "language_en": "English",
            "language_es": "Español",
            "language_pt": "Português",
            "language_fr": "Français",
            "headline_field": "Headline",
            "queue_more": "{shown} of {total} drafts shown; the rest follow as these are handled.",
            "description": "Description",
            "raised": "Raised",
        },
        "es": {
            "review_title": "Borradores pendientes de revisión",
            "review_help": "Primero los más graves, luego los más recientes. Publicar envía la alerta a los suscriptores y a las fuentes públicas.",
            "review_empty": "No hay borradores pendientes para usted.",
            "publish": "Publicar",
            "dismiss": "Descartar",
            "dismiss_reason": "Motivo del descarte (obligatorio)",
            "edit": "Editar",
            "edit_title": "Editar la alerta en todos los idiomas",
            "edit_help": "Guardar una vez es una versión nueva: una alerta publicada envía una sola actualización CAP con los cuatro idiomas.",
            "save": "Guardar",
            "update_alert": "Actualizar",
            "cancel_alert": "Cancelar esta alerta",
            "cancel_reason": "Motivo de la cancelación",
            "detections_behind": "Detecciones que la originan",
            "by_month": "Por mes de incautación",
            "month": "Mes",
            "count": "Cantidad",
            "seized_on": "Incautación",
            "region": "Región",
            "form": "Forma",
            "sold_as": "Vendida como",
            "versions": "Historial de versiones",
            "msg_type": "Mensaje",
            "sent": "Enviado",
            "by": "Por",
            "changed": "Qué cambió",
            "first_version": "primera publicación",
            "controls_in_force": "Controles por jurisdicción",
            "instrument": "Instrumento",
            "schedule": "Lista",
            "since": "Desde",
            "until": "Hasta",
            "in_force": "Vigente",
            "yes": "sí",
            "no": "no",
            "no_controls": "Ningún control se aplica a esta sustancia en la biblioteca de referencia: un caso de alerta temprana.",
            "substance_page": "Página de la sustancia",
            "status": "Estado",
            "banner_cancelled": "Esta alerta fue cancelada. Ya no está vigente.",
            "banner_dismissed": "Este borrador fue descartado por un analista y nunca se publicó.",
            "banner_draft": "Borrador: aún no publicado. Solo lo ven los revisores.",
            "banner_superseded": "Esta es la versión {version}; fue sustituida por la versión {latest}.",
            "see_latest": "Ver la versión vigente",
            "reason": "Motivo",
            "done_published": "Publicada.",
            "done_dismissed": "Descartada.",
            "done_saved": "Guardada.",
            "done_cancelled": "Cancelada.",
            "done_unchanged": "No cambió nada; no se envió nada.",
            "rule": "Regla",
            "urgency": "Urgencia",
            "certainty": "Certeza",
            "scope": "Alcance",
            "reasons": "Por qué",
            "language_en": "English",
            "language_es": "Español",
            "language_pt": "Português",
            "language_fr": "Français",
            "headline_field": "Titular",
            "queue_more": "Se muestran {shown} de {total} borradores; los demás aparecerán a medida que se traten estos.",
            "description": "Descripción",
            "raised": "Generada",
        },
        "pt": {
            "review_title": "Rascunhos à espera de revisão",
            "review_help": "Primeiro os mais graves, depois os mais recentes. Publicar envia o alerta aos assinantes e aos feeds públicos.",
            "review_empty": "Não há rascunhos à sua espera.",
            "publish": "Publicar",
            "dismiss": "Descartar",
            "dismiss_reason": "Motivo do descarte (obrigatório)",
            "edit": "Editar",
            "edit_title": "Editar o alerta em todos os idiomas",
            "edit_help": "Cada gravação é uma nova versão: um alerta publicado envia uma única atualização CAP com os quatro idiomas.",
            "save": "Guardar",
            "update_alert": "Atualizar",
            "cancel_alert": "Cancelar este alerta",
            "cancel_reason": "Motivo do cancelamento",
            "detections_behind": "Detecções que o originam",
            "by_month": "Por mês de apreensão",
            "month": "Mês",
            "count": "Quantidade",
            "seized_on": "Apreensão",
            "region": "Região",
            "form": "Forma",
            "sold_as": "Vendido como",
            "versions": "Histórico de versões",
            "msg_type": "Mensagem",
            "sent": "Enviado",
            "by": "Por",
            "changed": "O que mudou",
            "first_version": "primeira publicação",
            "controls_in_force": "Controlos por jurisdição",
            "instrument": "Instrumento",
            "schedule": "Lista",
            "since": "Desde",
            "until": "Até",
            "in_force": "Em vigor",
            "yes": "sim",
            "no": "não",
            "no_controls": "Nenhum controlo se aplica a esta substância na biblioteca de referência: um caso de alerta precoce.",
            "substance_page": "Página da substância",
            "status": "Estado",
            "banner_cancelled": "Este alerta foi cancelado. Já não se aplica.",
            "banner_dismissed": "Este rascunho foi descartado por um analista e nunca foi publicado.",
            "banner_draft": "Rascunho: ainda não publicado. Só os revisores o veem.",
            "banner_superseded": "Esta é a versão {version}; foi substituída pela versão {latest}.",
            "see_latest": "Ver a versão atual",
            "reason": "Motivo",
            "done_published": "Publicado.",
            "done_dismissed": "Descartado.",
            "done_saved": "Guardado.",
            "done_cancelled": "Cancelado.",
            "done_unchanged": "Nada mudou; nada foi enviado.",
            "rule": "Regra",
            "urgency": "Urgência",
            "certainty": "Certeza",
            "scope": "Âmbito",
            "reasons": "Porquê",
            "language_en": "English",
            "language_es": "Español",
            "language_pt": "Português",
            "language_fr": "Français",
            "headline_field": "Título",
            "queue_more": "Mostram-se {shown} de {total} rascunhos; os restantes aparecem à medida que estes forem tratados.",
            "description": "Descrição",
            "raised": "Gerado",
        },
        "fr": {
            "review_title": "Brouillons en attente de revue",
            "review_help": "Les plus graves d'abord, puis les plus récents. Publier envoie l'alerte aux abonnés et aux flux publics.",
            "review_empty": "Aucun brouillon ne vous attend.",
            "publish": "Publier",
            "dismiss": "Écarter",
            "dismiss_reason": "Motif (obligatoire)",
            "edit": "Modifier",
            "edit_title": "Modifier l'alerte dans toutes les langues",
            "edit_help": "Un enregistrement est une nouvelle version : une alerte publiée envoie une seule mise à jour CAP avec les quatre langues.",
            "save": "Enregistrer",
            "update_alert": "Mettre à jour",
            "cancel_alert": "Annuler cette alerte",
            "cancel_reason": "Motif de l'annulation",
            "detections_behind": "Détections à l'origine",
            "by_month": "Par mois de saisie",
            "month": "Mois",
            "count": "Nombre",
            "seized_on": "Saisie",
            "region": "Région",
            "form": "Forme",
            "sold_as": "Vendu comme",
            "versions": "Historique des versions",
            "msg_type": "Message",
            "sent": "Envoyé",
            "by": "Par",
            "changed": "Modifications",
            "first_version": "première publication",
            "controls_in_force": "Contrôles par juridiction",
            "instrument": "Instrument",
            "schedule": "Tableau",
            "since": "Depuis",
            "until": "Jusqu'au",
            "in_force": "En vigueur",
            "yes": "oui",
            "no": "non",
            "no_controls": "Aucun contrôle ne s'applique à cette substance dans la bibliothèque de référence : un cas d'alerte précoce.",
            "substance_page": "Page de la substance",
            "status": "Statut",
            "banner_cancelled": "Cette alerte a été annulée. Elle ne s'applique plus.",
            "banner_dismissed": "Ce brouillon a été écarté par un analyste et n'a jamais été publié.",
            "banner_draft": "Brouillon : pas encore publié. Seuls les réviseurs le voient.",
            "banner_superseded": "Ceci est la version {version} ; elle a été remplacée par la version {latest}.",
            "see_latest": "Voir la version en vigueur",
            "reason": "Motif",
            "done_published": "Publiée.",
            "done_dismissed": "Écartée.",
            "done_saved": "Enregistrée.",
            "done_cancelled": "Annulée.",
            "done_unchanged": "Rien n'a changé ; rien n'a été envoyé.",
            "rule": "Règle",
            "urgency": "Urgence",
            "certainty": "Certitude",
            "scope": "Portée",
            "reasons": "Pourquoi",
            "language_en": "English",
            "language_es": "Español",
            "language_pt": "Português",
            "language_fr": "Français",
            "headline_field": "Titre",
            "queue_more": "{shown} brouillons affichés sur {total} ; les autres suivront à mesure que ceux-ci seront traités.",
            "description": "Description",
            "raised": "Créée",
        },
    }
)


# --- what the pages show ----------------------------------------------------------------------


def text_in(alert: Alert | dict, lang: str) -> dict[str, str]:
    """The alert's wording in ``lang``, English where that language has none."""
    get = alert.get if isinstance(alert, dict) else lambda k, d=None: getattr(alert, k, d)
    texts = get("texts", {}) or {}
    english = {k: get(k, "") for k in ("event", *TEXT_FIELDS)}
    return {**english, **{k: v for k, v in texts.get(lang, {}).items() if v}}


@lru_cache(maxsize=4096)
def _svg(smiles: str, size: tuple[int, int]) -> str:
    return svg(smiles, size=size) or ""


def drawing(alert: Alert, size: tuple[int, int] = (300, 220)) -> str:
    return _svg(alert.smiles, size) if alert.smiles else ""


def queue(db: Session, user: Principal) -> tuple[list[Alert], int]:
    """Drafts this person may review, most severe first, then newest; and how many there are in all.

    The remit is decided on a few columns of every draft; only the drafts shown are loaded whole.
    """
    rows = db.exec(
        select(Alert.id, Alert.severity, Alert.countries)
        .where(Alert.status == "draft")
        .order_by(col(Alert.created_at).desc(), col(Alert.id).desc())
    ).all()
    mine = sorted(
        (r for r in rows if review.can_review(cast(Alert, SimpleNamespace(countries=r[2])), user)),
        key=lambda r: severity_rank(r[1]),
    )  # a stable sort: newest first within a severity
    shown = [r[0] for r in mine[:QUEUE_LIMIT]]
    alerts = {a.id: a for a in db.exec(select(Alert).where(col(Alert.id).in_(shown))).all()}
    return [alerts[i] for i in shown if i in alerts], len(mine)


def version_history(db: Session, alert: Alert) -> list[dict]:
    """Every published version with what changed from the one before it."""
    versions = db.exec(
        select(AlertVersion).where(AlertVersion.alert_id == alert.id).order_by(col(AlertVersion.version))
    ).all()
    names = dict(
        db.exec(
            select(Organisation.id, Organisation.name).where(
                col(Organisation.id).in_([v.actor_organisation_id for v in versions if v.actor_organisation_id])
            )
        ).all()
    )
    history, previous = [], None
    for version in versions:
        history.append(
            {
                "version": version.version,
                "msg_type": version.msg_type,
                "sent_at": version.sent_at,
                "by": names.get(version.actor_organisation_id or "", "ews"),
                "changes": changes(previous, version.snapshot) if previous is not None else [],
            }
        )
        previous = version.snapshot
    return list(reversed(history))


def changes(before: dict, after: dict) -> list[str]:
    """What differs between two snapshots, as short phrases (``severity: Moderate → Severe``)."""
    found = []
    for key in ("status", "severity", "urgency", "certainty", "scope"):
        if before.get(key) != after.get(key):
            found.append(f"{key}: {before.get(key)} → {after.get(key)}")
    if before.get("countries") != after.get("countries"):
        found.append(f"countries: {', '.join(after.get('countries') or [])}")
    if before.get("detection_count") != after.get("detection_count"):
        found.append(f"detections: {before.get('detection_count')} → {after.get('detection_count')}")
    old, new = before.get("texts") or {}, after.get("texts") or {}
    for lang in LANGUAGES:
        edited = [k for k in TEXT_FIELDS if (old.get(lang) or {}).get(k) != (new.get(lang) or {}).get(k)]
        if edited:
            found.append(f"{lang}: {', '.join(edited)}")
    return found


def detections_over_time(db: Session, alert: Alert) -> list[tuple[str, int]]:
    """Detections behind the alert by month of seizure (of report when the seizure date is unknown)."""
    rows = db.exec(
        select(col(Detection.seized_on), col(Detection.created_at))
        .join(AlertDetection, col(AlertDetection.detection_id) == Detection.id)
        .where(AlertDetection.alert_id == alert.id)
        .distinct()
    ).all()
    months = Counter(f"{(seized or created.date()):%Y-%m}" for seized, created in rows)
    return sorted(months.items())


def controls(state: Node, alert: Alert) -> list[dict]:
    """The substance's controls in the reference library, by jurisdiction, with their dates."""
    today = date.today()
    substance = state.library.get().by_id.get(alert.substance_id) if alert.substance_id else None
    if substance is None:
        return [
            {
                "jurisdiction": c.get("jurisdiction"),
                "instrument": c.get("instrument"),
                "schedule": c.get("schedule"),
                "since": c.get("controlled_since"),
                "until": None,
                "in_force": True,
            }
            for c in alert.evidence.get("controls", [])
        ]
    return sorted(
        (
            {
                "jurisdiction": c.jurisdiction or "UN",
                "instrument": c.instrument,
                "schedule": c.schedule,
                "since": c.controlled_since,
                "until": c.controlled_until,
                "in_force": c.in_force_anywhere(today),
            }
            for c in substance.controls
        ),
        key=lambda c: (c["jurisdiction"] != "UN", c["jurisdiction"], str(c["since"] or "")),
    )


# --- the review queue -------------------------------------------------------------------------


@router.get("/review", response_class=HTMLResponse)
def review_queue(
    request: Request,
    done: str | None = None,
    user: Principal = Depends(page_roles(*REVIEWERS)),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    lang = language(request)
    drafts, total = queue(db, user)
    items = [
        {
            "alert": a,
            "text": text_in(a, lang),
            "drawing": drawing(a, (220, 160)),
            "detections": alert_detections(db, a.id, limit=5),
        }
        for a in drafts
    ]
    return render(request, state, "review.html", items=items, done=done, total=total)


def _act(state: Node, user: Principal, alert_id: str, act) -> Alert:
    with session_scope(state.engine) as db:
        alert = review.get_reviewable(db, user, alert_id)
        act(db, alert)
        db.flush()
        return alert


def _back(request: Request, default: str, done: str) -> RedirectResponse:
    lang = request.query_params.get("lang")
    suffix = f"&lang={lang}" if lang in LANGUAGES else ""
    return RedirectResponse(f"{default}?done={done}{suffix}", status_code=303)


@router.post("/review/{alert_id}/publish")
def publish(
    alert_id: str, request: Request, user: Principal = Depends(page_roles(*REVIEWERS)), state: Node = Depends(node)
) -> Response:
    def act(db: Session, alert: Alert) -> None:
        version = review.publish(db, state.alerting, alert, user)
        audit(db, "alert.publish", "alert", alert.id, user, version=version.version, via="web")

    _act(state, user, alert_id, act)
    return _back(request, "/review", "published")


@router.post("/review/{alert_id}/dismiss")
def dismiss(
    alert_id: str,
    request: Request,
    reason: str = Form(default="", max_length=2000),
    user: Principal = Depends(page_roles(*REVIEWERS)),
    state: Node = Depends(node),
) -> Response:
    if not reason.strip():
        raise invalid([field_error("reason", "say why the draft is dismissed")])
    _act(state, user, alert_id, lambda db, alert: review.dismiss(db, alert, user, reason.strip()))
    return _back(request, "/review", "dismissed")


@router.post("/alerts/{alert_id}/cancel")
def cancel(
    alert_id: str,
    request: Request,
    reason: str = Form(default="", max_length=2000),
    user: Principal = Depends(page_roles(*REVIEWERS)),
    state: Node = Depends(node),
) -> Response:
    def act(db: Session, alert: Alert) -> None:
        version = review.cancel(db, state.alerting, alert, user)
        audit(db, "alert.cancel", "alert", alert.id, user, version=version.version, reason=reason.strip() or None)

    _act(state, user, alert_id, act)
    return _back(request, f"/alerts/{alert_id}", "cancelled")


@router.get("/review/{alert_id}/edit", response_class=HTMLResponse)
def edit_form(
    alert_id: str,
    request: Request,
    user: Principal = Depends(page_roles(*REVIEWERS)),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    alert = review.get_readable(db, user, alert_id)
    if not review.can_review(alert, user):
        raise Problem(403, "Forbidden", "only the authorities of the alert's countries review it")
    if alert.status in ("dismissed", "cancelled"):
        raise Problem(409, "Conflict", f"the alert is {alert.status}; it can no longer be edited")
    texts = {lang: text_in(alert, lang) for lang in LANGUAGES}
    return render(
        request,
        state,
        "alert_edit.html",
        alert=alert,
        texts=texts,
        languages=LANGUAGES,
        grading={"severity": SEVERITIES, "urgency": URGENCIES, "certainty": CERTAINTIES},
    )


@router.post("/review/{alert_id}/edit")
async def edit(
    alert_id: str,
    request: Request,
    user: Principal = Depends(page_roles(*REVIEWERS)),
    state: Node = Depends(node),
) -> Response:
    form = await request.form()
    texts: dict[str, dict[str, str]] = {}
    errors = []
    for lang in LANGUAGES:
        texts[lang] = {}
        for key in TEXT_FIELDS:
            value = form.get(f"{key}_{lang}")
            if isinstance(value, str):
                limit = {"headline": 400, "description": 10_000, "instruction": 4_000}[key]
                value = value.strip().replace("\r\n", "\n")
                if len(value) > limit:
                    errors.append(field_error(f"{key}_{lang}", f"at most {limit} characters"))
                elif key == "headline" and len(value) < 3:
                    errors.append(field_error(f"{key}_{lang}", "a headline of at least 3 characters"))
                texts[lang][key] = value
    grading = {
        k: v for k in ("severity", "urgency", "certainty", "scope") if isinstance(v := form.get(k), str) and v
    }
    if errors:
        raise invalid(errors)
    result: dict[str, bool] = {}

    def act(db: Session, alert: Alert) -> None:
        before = alert.updated_at
        review.edit_languages(db, state.alerting, alert, user, texts, grading)
        result["changed"] = alert.updated_at != before

    _act(state, user, alert_id, act)
    with session_scope(state.engine) as db:
        status = db.get(Alert, alert_id).status  # type: ignore[union-attr]
    target = "/review" if status == "draft" else f"/alerts/{alert_id}"
    return _back(request, target, "saved" if result.get("changed") else "unchanged")


# --- the alert page ---------------------------------------------------------------------------


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(
    alert_id: str,
    request: Request,
    version: int | None = None,
    done: str | None = None,
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    user = current_user(request)
    alert = review.get_readable(db, user, alert_id)
    lang = language(request)
    history = version_history(db, alert)
    shown = None
    if version is not None and history and version != history[0]["version"]:
        row = db.exec(
            select(AlertVersion).where(AlertVersion.alert_id == alert.id, AlertVersion.version == version)
        ).first()
        if row is None:
            raise Problem(404, "Not found", f"the alert has no version {version}")
        shown = row.snapshot
    text = text_in(shown if shown else alert, lang)
    return render(
        request,
        state,
        "alert.html",
        alert=alert,
        shown=shown,
        shown_version=version if shown else None,
        text=text,
        drawing=drawing(alert),
        history=history,
        months=detections_over_time(db, alert),
        detections=alert_detections(db, alert.id, limit=50),
        controls=controls(state, alert),
        reviewer=user is not None and review.can_review(alert, user),
        done=done,
        substance_ref=alert.substance_id or alert.inchikey,
        first_seen=alert.facts.get("first_seen"),
        update_pending=alert.update_due_at is not None,
    )
