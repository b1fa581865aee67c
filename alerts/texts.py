"""Alert wording in English, Spanish, Portuguese and French.

The templates take plain facts (names, codes, dates) and return the CAP text
fields: ``event``, ``headline``, ``description``, ``instruction``.

>>> t = alert_texts("new_substance", {"substance_name": "N-pyrrolidino protonitazene", "drug_class": "opioid",
...     "country": "CO", "region": "Antioquia", "nearest": "protonitazene", "verdict": "analog"}, "es")
>>> t["headline"]
'Nueva sustancia detectada: N-pyrrolidino protonitazene (opioide), Antioquia, Colombia'
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import pycountry

LANGUAGES = ("en", "es", "pt", "fr")

CLASS_LABELS = {
    "en": {
        "opioid": "opioid",
        "synthetic_cannabinoid": "synthetic cannabinoid",
        "cannabinoid": "cannabinoid",
        "cathinone": "synthetic cathinone",
        "phenethylamine": "phenethylamine",
        "arylalkylamine": "arylalkylamine",
        "tryptamine": "tryptamine",
        "lysergamide": "lysergamide",
        "arylcyclohexylamine": "arylcyclohexylamine",
        "benzodiazepine": "benzodiazepine",
        "piperazine": "piperazine",
        "piperidine_pyrrolidine": "piperidine/pyrrolidine stimulant",
        "aminoindane": "aminoindane",
        "stimulant": "stimulant",
        "sedative": "sedative",
        "other": "psychoactive substance",
    },
    "es": {
        "opioid": "opioide",
        "synthetic_cannabinoid": "cannabinoide sintético",
        "cannabinoid": "cannabinoide",
        "cathinone": "catinona sintética",
        "phenethylamine": "fenetilamina",
        "arylalkylamine": "arilalquilamina",
        "tryptamine": "triptamina",
        "lysergamide": "lisergamida",
        "arylcyclohexylamine": "arilciclohexilamina",
        "benzodiazepine": "benzodiacepina",
        "piperazine": "piperazina",
        "piperidine_pyrrolidine": "estimulante piperidínico/pirrolidínico",
        "aminoindane": "aminoindano",
        "stimulant": "estimulante",
        "sedative": "sedante",
        "other": "sustancia psicoactiva",
    },
    "pt": {
        "opioid": "opioide",
        "synthetic_cannabinoid": "canabinoide sintético",
        "cannabinoid": "canabinoide",
        "cathinone": "catinona sintética",
        "phenethylamine": "fenetilamina",
        "arylalkylamine": "arilalquilamina",
        "tryptamine": "triptamina",
        "lysergamide": "lisergamida",
        "arylcyclohexylamine": "arilciclo-hexilamina",
        "benzodiazepine": "benzodiazepina",
        "piperazine": "piperazina",
        "piperidine_pyrrolidine": "estimulante piperidínico/pirrolidínico",
        "aminoindane": "aminoindano",
        "stimulant": "estimulante",
        "sedative": "sedativo",
        "other": "substância psicoativa",
    },
    "fr": {
        "opioid": "opioïde",
        "synthetic_cannabinoid": "cannabinoïde de synthèse",
        "cannabinoid": "cannabinoïde",
        "cathinone": "cathinone de synthèse",
        "phenethylamine": "phénéthylamine",
        "arylalkylamine": "arylalkylamine",
        "tryptamine": "tryptamine",
        "lysergamide": "lysergamide",
        "arylcyclohexylamine": "arylcyclohexylamine",
        "benzodiazepine": "benzodiazépine",
        "piperazine": "pipérazine",
        "piperidine_pyrrolidine": "stimulant pipéridinique/pyrrolidinique",
        "aminoindane": "aminoindane",
        "stimulant": "stimulant",
        "sedative": "sédatif",
        "other": "substance psychoactive",
    },
}

_EVENTS = {
    "new_substance": {
        "en": "New psychoactive substance",
        "es": "Nueva sustancia psicoactiva",
        "pt": "Nova substância psicoativa",
        "fr": "Nouvelle substance psychoactive",
    },
    "first_in_country": {
        "en": "First detection in country",
        "es": "Primera detección en el país",
        "pt": "Primeira detecção no país",
        "fr": "Première détection dans le pays",
    },
    "high_harm": {
        "en": "High-harm substance",
        "es": "Sustancia de alto riesgo",
        "pt": "Substância de alto risco",
        "fr": "Substance à haut risque",
    },
    "cluster": {
        "en": "Cluster of detections",
        "es": "Conglomerado de detecciones",
        "pt": "Aglomerado de detecções",
        "fr": "Groupe de détections",
    },
    "unexpected_content": {
        "en": "Unexpected content",
        "es": "Contenido inesperado",
        "pt": "Conteúdo inesperado",
        "fr": "Contenu inattendu",
    },
    "linked_cluster": {
        "en": "Linked seizures across borders",
        "es": "Incautaciones vinculadas entre países",
        "pt": "Apreensões ligadas entre países",
        "fr": "Saisies liées entre pays",
    },
    "regional_spread": {
        "en": "Substance detected in several countries",
        "es": "Sustancia detectada en varios países",
        "pt": "Substância detectada em vários países",
        "fr": "Substance détectée dans plusieurs pays",
    },
}

_HEADLINES = {
    "new_substance": {
        "en": "New substance detected: {name} ({label}), {place}",
        "es": "Nueva sustancia detectada: {name} ({label}), {place}",
        "pt": "Nova substância detectada: {name} ({label}), {place}",
        "fr": "Nouvelle substance détectée : {name} ({label}), {place}",
    },
    "first_in_country": {
        "en": "{name} ({label}) detected for the first time in {place}",
        "es": "{name} ({label}) detectado por primera vez en {place}",
        "pt": "{name} ({label}) detectado pela primeira vez em {place}",
        "fr": "{name} ({label}) détecté pour la première fois : {place}",
    },
    "high_harm": {
        "en": "High-harm {label} {name} detected again, {place}",
        "es": "{label} de alto riesgo {name} detectado de nuevo, {place}",
        "pt": "{label} de alto risco {name} detectado novamente, {place}",
        "fr": "{label} à haut risque {name} de nouveau détecté, {place}",
    },
    "cluster": {
        "en": "{count} detections of {name} in {place} within {days} days",
        "es": "{count} detecciones de {name} en {place} en {days} días",
        "pt": "{count} detecções de {name} em {place} em {days} dias",
        "fr": "{count} détections de {name} à {place} en {days} jours",
    },
    "unexpected_content": {
        "en": "{name} ({label}) found in a sample sold as another drug, {place}",
        "es": "{name} ({label}) hallado en una muestra vendida como otra droga, {place}",
        "pt": "{name} ({label}) encontrado numa amostra vendida como outra droga, {place}",
        "fr": "{name} ({label}) trouvé dans un échantillon vendu comme une autre drogue, {place}",
    },
    "linked_cluster": {
        "en": "{name} ({label}): seizures with one chemical profile in {count} countries: {places}",
        "es": "{name} ({label}): incautaciones con un mismo perfil químico en {count} países: {places}",
        "pt": "{name} ({label}): apreensões com o mesmo perfil químico em {count} países: {places}",
        "fr": "{name} ({label}) : saisies de même profil chimique dans {count} pays : {places}",
    },
    "regional_spread": {
        "en": "{name} ({label}) now detected in {count} countries: {places}",
        "es": "{name} ({label}) detectado ya en {count} países: {places}",
        "pt": "{name} ({label}) já detectado em {count} países: {places}",
        "fr": "{name} ({label}) désormais détecté dans {count} pays : {places}",
    },
}

_STATUS_PHRASES = {
    "analog": {
        "en": "It is not under control but is structurally related to {nearest}.",
        "es": "No está sometida a fiscalización, pero está relacionada estructuralmente con {nearest}.",
        "pt": "Não está sob controle, mas é estruturalmente relacionada com {nearest}.",
        "fr": "Elle n'est pas placée sous contrôle mais est structurellement apparentée à {nearest}.",
    },
    "controlled": {
        "en": "It is under control ({controls}).",
        "es": "Está sometida a fiscalización ({controls}).",
        "pt": "Está sob controle ({controls}).",
        "fr": "Elle est placée sous contrôle ({controls}).",
    },
    "no_match": {
        "en": "It matches no substance or drug family in the reference library.",
        "es": "No coincide con ninguna sustancia ni familia de la biblioteca de referencia.",
        "pt": "Não corresponde a nenhuma substância ou família da biblioteca de referência.",
        "fr": "Elle ne correspond à aucune substance ni famille de la bibliothèque de référence.",
    },
}

_DETECTED = {
    "en": "Detected in {place}{when} ({count} detection(s) so far).",
    "es": "Detectada en {place}{when} ({count} detección(es) hasta ahora).",
    "pt": "Detectada em {place}{when} ({count} detecção(ões) até agora).",
    "fr": "Détectée à {place}{when} ({count} détection(s) à ce jour).",
}
_WHEN = {
    "en": " (first seized {date})",
    "es": " (primera incautación el {date})",
    "pt": " (primeira apreensão em {date})",
    "fr": " (première saisie le {date})",
}
_AND = {"en": "and", "es": "y", "pt": "e", "fr": "et"}

# What a laboratory typed is evidence: quoted, in the laboratory's own words, and said to be so.
_REPORTED_AS = {
    "en": "Reported by the laboratory as {names} (the laboratory's wording, not translated).",
    "es": "Notificada por el laboratorio como {names} (redacción del laboratorio, sin traducir).",
    "pt": "Notificada pelo laboratório como {names} (redação do laboratório, sem tradução).",
    "fr": "Signalée par le laboratoire comme {names} (termes du laboratoire, non traduits).",
}
_SOLD_AS = {
    "en": "The sample was sold as {names} (the laboratory's wording, not translated).",
    "es": "La muestra se vendió como {names} (redacción del laboratorio, sin traducir).",
    "pt": "A amostra foi vendida como {names} (redação do laboratório, sem tradução).",
    "fr": "L'échantillon était vendu comme {names} (termes du laboratoire, non traduits).",
}
_WITHDRAWN = {
    "en": "Withdrawn: the reference library now identifies this substance as {what}.",
    "es": "Retirada: la biblioteca de referencia identifica ahora esta sustancia como {what}.",
    "pt": "Retirado: a biblioteca de referência identifica agora esta substância como {what}.",
    "fr": "Retirée : la bibliothèque de référence identifie désormais cette substance comme {what}.",
}
_VERDICT_WORDS = {
    "en": {
        "controlled": "controlled",
        "precursor": "a precursor",
        "known": "a known substance",
        "analog": "an analog",
    },
    "es": {
        "controlled": "fiscalizada",
        "precursor": "un precursor",
        "known": "una sustancia conocida",
        "analog": "un análogo",
    },
    "pt": {
        "controlled": "controlada",
        "precursor": "um precursor",
        "known": "uma substância conhecida",
        "analog": "um análogo",
    },
    "fr": {
        "controlled": "contrôlée",
        "precursor": "un précurseur",
        "known": "une substance connue",
        "analog": "un analogue",
    },
}
MAX_QUOTED = 5
MAX_QUOTED_LENGTH = 80

_INSTRUCTIONS = {
    "opioid": {
        "en": "Alert emergency services and harm-reduction services: potent opioid, overdose risk; make naloxone "
        "available, and several doses may be needed. Report further detections.",
        "es": "Alertar a los servicios de emergencia y de reducción de daños: opioide potente, riesgo de sobredosis; "
        "disponer de naloxona, pueden requerirse varias dosis. Notificar nuevas detecciones.",
        "pt": "Alertar os serviços de emergência e de redução de danos: opioide potente, risco de overdose; "
        "disponibilizar naloxona, podem ser necessárias várias doses. Notificar novas detecções.",
        "fr": "Alerter les services d'urgence et de réduction des risques : opioïde puissant, risque de surdose ; "
        "rendre la naloxone disponible, plusieurs doses peuvent être nécessaires. Signaler toute nouvelle détection.",
    },
    "benzodiazepine": {
        "en": "Alert emergency and harm-reduction services: designer benzodiazepine, risk of deep sedation, "
        "especially with opioids or alcohol. Report further detections.",
        "es": "Alertar a los servicios de emergencia y de reducción de daños: benzodiacepina de diseño, riesgo de "
        "sedación profunda, sobre todo con opioides o alcohol. Notificar nuevas detecciones.",
        "pt": "Alertar os serviços de emergência e de redução de danos: benzodiazepina de síntese, risco de "
        "sedação profunda, sobretudo com opioides ou álcool. Notificar novas detecções.",
        "fr": "Alerter les services d'urgence et de réduction des risques : benzodiazépine de synthèse, risque de "
        "sédation profonde, surtout avec des opioïdes ou de l'alcool. Signaler toute nouvelle détection.",
    },
    "default": {
        "en": "Inform health, harm-reduction and forensic services; confirm the identification and report "
        "further detections.",
        "es": "Informar a los servicios de salud, de reducción de daños y forenses; confirmar la identificación y "
        "notificar nuevas detecciones.",
        "pt": "Informar os serviços de saúde, de redução de danos e forenses; confirmar a identificação e "
        "notificar novas detecções.",
        "fr": "Informer les services de santé, de réduction des risques et de police scientifique ; confirmer "
        "l'identification et signaler toute nouvelle détection.",
    },
}


@lru_cache(maxsize=4096)
def country_name(code: str | None, language: str = "en") -> str:
    """The country's name in ``language`` (ISO 3166 names, translated by pycountry's catalogues)."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    if language == "en":
        return getattr(country, "common_name", None) or country.name
    try:
        import gettext

        translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        return translation.gettext(country.name)
    except OSError:
        return country.name


def class_label(drug_class: str | None, language: str) -> str:
    labels = CLASS_LABELS.get(language, CLASS_LABELS["en"])
    return labels.get(drug_class or "other", labels["other"])


def _place(facts: dict, language: str) -> str:
    """Where: 'Antioquia, Colombia'; 'Colombia (Antioquia, Valle del Cauca)'; 'Colombia and Mexico'."""
    countries = facts.get("countries") or ([facts["country"]] if facts.get("country") else [])
    if len(countries) > 1:
        names = [country_name(c, language) for c in countries]
        return f"{', '.join(names[:-1])} {_AND[language]} {names[-1]}"
    code = countries[0] if countries else None
    name = country_name(code, language)
    regions = [r["region"] for r in facts.get("regions") or [] if r.get("country") == code and r.get("region")]
    if not regions and facts.get("region"):
        regions = [facts["region"]]
    if len(regions) > 1:
        return f"{name} ({', '.join(regions)})"
    return f"{regions[0]}, {name}" if regions else name


def quoted(names: list[str] | tuple[str, ...]) -> str:
    """Lab-typed names, bounded and quoted: '“heroin”, “H”'."""
    shown = []
    for name in list(names)[:MAX_QUOTED]:
        text = " ".join(str(name).split())
        shown.append("“" + (text[:MAX_QUOTED_LENGTH] + "…" if len(text) > MAX_QUOTED_LENGTH else text) + "”")
    return ", ".join(shown)


def neutral_name(facts: dict, language: str) -> str:
    """The substance's library name, or a neutral description (class and formula) when it has none."""
    if facts.get("substance_name"):
        return str(facts["substance_name"])
    if facts.get("formula"):
        return str(facts["formula"])
    return class_label(facts.get("drug_class"), language)


def alert_texts(rule: str, facts: dict, language: str = "en") -> dict[str, str]:
    """CAP ``event``, ``headline``, ``description`` and ``instruction`` in ``language``."""
    language = language if language in LANGUAGES else "en"
    name = neutral_name(facts, language)
    label = class_label(facts.get("drug_class"), language)
    place = _place(facts, language)
    places = ", ".join(country_name(c, language) for c in facts.get("countries", []))
    headline = _HEADLINES.get(rule, _HEADLINES["new_substance"])[language].format(
        name=name,
        label=label,
        place=place,
        count=(
            len(facts.get("countries", []))
            if rule == "linked_cluster"
            else facts.get("detection_count") or len(facts.get("countries", [])) or 1
        ),
        days=facts.get("window_days", ""),
        places=places,
    )
    verdict = facts.get("verdict") or "no_match"
    status = _STATUS_PHRASES.get(verdict, _STATUS_PHRASES["no_match"])[language].format(
        nearest=facts.get("nearest") or facts.get("family") or label, controls=facts.get("controls") or ""
    )
    first_seen = facts.get("first_seen") or facts.get("seized_on")
    when = _WHEN[language].format(date=first_seen) if first_seen else ""
    detected = _DETECTED[language].format(place=place, when=when, count=facts.get("detection_count") or 1)
    formula = f" [{facts['formula']}]" if facts.get("formula") and facts["formula"] != name else ""
    description = f"{name}{formula}. {status} {detected}"
    if facts.get("reported_as"):
        description += " " + _REPORTED_AS[language].format(names=quoted(facts["reported_as"]))
    if facts.get("sold_as"):
        sold = facts["sold_as"] if isinstance(facts["sold_as"], list) else [facts["sold_as"]]
        description += " " + _SOLD_AS[language].format(names=quoted(sold))
    instruction_key = cast(str, facts.get("drug_class")) if facts.get("drug_class") in _INSTRUCTIONS else "default"
    return {
        "event": _EVENTS.get(rule, _EVENTS["new_substance"])[language],
        "headline": headline[:400],
        "description": description,
        "instruction": _INSTRUCTIONS[instruction_key][language],
    }


def withdrawal_note(verdict: str, name: str | None, language: str) -> str:
    """Why a library change withdrew an alert: 'Withdrawn: … now identifies this substance as a known substance (caffeine).'"""
    language = language if language in LANGUAGES else "en"
    what = _VERDICT_WORDS[language].get(verdict, verdict)
    return _WITHDRAWN[language].format(what=f"{what} ({name})" if name else what)


def all_texts(rule: str, facts: dict) -> dict[str, dict[str, str]]:
    return {language: alert_texts(rule, facts, language) for language in LANGUAGES}
