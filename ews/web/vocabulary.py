"""The controlled vocabulary on pages, translated: statuses, CAP grading, verdicts, classes, evidence kinds.

Templates write ``{{ value | word }}``; a term is registered as ``v.<term>``.
"""

from __future__ import annotations

from ews.web.i18n import add_words

# term: (en, es, pt, fr)
TERMS: dict[str, tuple[str, str, str, str]] = {
    # alert statuses and messages
    "draft": ("draft", "borrador", "rascunho", "brouillon"),
    "published": ("published", "publicada", "publicado", "publiée"),
    "dismissed": ("dismissed", "descartada", "descartado", "écartée"),
    "cancelled": ("cancelled", "cancelada", "cancelado", "annulée"),
    "superseded": ("superseded", "sustituida", "substituído", "remplacée"),
    "Alert": ("Alert", "Alerta", "Alerta", "Alerte"),
    "Update": ("Update", "Actualización", "Atualização", "Mise à jour"),
    "Cancel": ("Cancellation", "Cancelación", "Cancelamento", "Annulation"),
    "Public": ("public", "pública", "público", "publique"),
    "Restricted": ("restricted", "restringida", "restrito", "restreinte"),
    # sample forms (ews.schemas.SAMPLE_FORMS)
    "powder": ("powder", "polvo", "pó", "poudre"),
    "crystal": ("crystal", "cristal", "cristal", "cristal"),
    "tablet": ("tablet", "comprimido", "comprimido", "comprimé"),
    "capsule": ("capsule", "cápsula", "cápsula", "gélule"),
    "blotter": ("blotter", "papel secante", "papel absorvente", "buvard"),
    "herbal material": ("herbal material", "material herbal", "material herbal", "matière végétale"),
    "plant material": ("plant material", "material vegetal", "material vegetal", "matériel végétal"),
    "resin": ("resin", "resina", "resina", "résine"),
    "liquid": ("liquid", "líquido", "líquido", "liquide"),
    "e-liquid": ("e-liquid", "líquido para vapeo", "líquido para vape", "e-liquide"),
    "paste": ("paste", "pasta", "pasta", "pâte"),
    "patch": ("patch", "parche", "adesivo", "patch"),
    "nasal spray": ("nasal spray", "aerosol nasal", "spray nasal", "spray nasal"),
    "injectable": ("injectable", "inyectable", "injetável", "injectable"),
    "biological specimen": (
        "biological specimen",
        "muestra biológica",
        "amostra biológica",
        "échantillon biologique",
    ),
    "blood": ("blood", "sangre", "sangue", "sang"),
    "urine": ("urine", "orina", "urina", "urine"),
    "oral fluid": ("oral fluid", "fluido oral", "fluido oral", "fluide oral"),
    "hair": ("hair", "cabello", "cabelo", "cheveux"),
    # CAP severity, urgency, certainty
    "Extreme": ("Extreme", "Extrema", "Extrema", "Extrême"),
    "Severe": ("Severe", "Grave", "Grave", "Grave"),
    "Moderate": ("Moderate", "Moderada", "Moderada", "Modérée"),
    "Minor": ("Minor", "Menor", "Menor", "Mineure"),
    "Unknown": ("Unknown", "Desconocida", "Desconhecida", "Inconnue"),
    "Immediate": ("Immediate", "Inmediata", "Imediata", "Immédiate"),
    "Expected": ("Expected", "Prevista", "Prevista", "Attendue"),
    "Future": ("Future", "Futura", "Futura", "Future"),
    "Past": ("Past", "Pasada", "Passada", "Passée"),
    "Observed": ("Observed", "Observada", "Observada", "Observée"),
    "Likely": ("Likely", "Probable", "Provável", "Probable"),
    "Possible": ("Possible", "Posible", "Possível", "Possible"),
    "Unlikely": ("Unlikely", "Improbable", "Improvável", "Improbable"),
    # verdicts
    "controlled": ("controlled", "controlada", "controlada", "contrôlée"),
    "precursor": ("precursor", "precursor", "precursor", "précurseur"),
    "analog": ("analog", "análogo", "análogo", "analogue"),
    "known": ("known", "conocida", "conhecida", "connue"),
    "no_match": ("no match", "sin coincidencia", "sem correspondência", "aucune correspondance"),
    "error": ("error", "error", "erro", "erreur"),
    # the basis of a control: how the listing reaches the structure
    "listed": ("listed", "listada", "listada", "inscrite"),
    "isomer": ("isomer", "isómero", "isômero", "isomère"),
    "positional_isomer": ("positional isomer", "isómero de posición", "isômero de posição", "isomère de position"),
    "ester": ("ester", "éster", "éster", "ester"),
    "ether": ("ether", "éter", "éter", "éther"),
    # evidence kinds
    "identity": ("identity", "identidad", "identidade", "identité"),
    "generic": ("generic definition", "definición genérica", "definição genérica", "définition générique"),
    "similarity": ("similarity", "similitud", "similaridade", "similarité"),
    "family": ("drug family", "familia", "família", "famille"),
    # rules
    "new_substance": ("new substance", "sustancia nueva", "substância nova", "nouvelle substance"),
    "first_in_country": ("first in country", "primera en el país", "primeira no país", "première dans le pays"),
    "high_harm": ("high harm", "alto daño", "alto dano", "forte nocivité"),
    "cluster": ("cluster", "conglomerado", "aglomerado", "agrégat"),
    "unexpected_content": (
        "unexpected content",
        "contenido inesperado",
        "conteúdo inesperado",
        "contenu inattendu",
    ),
    # drug classes
    "opioid": ("opioid", "opioide", "opioide", "opioïde"),
    "synthetic_cannabinoid": (
        "synthetic cannabinoid",
        "cannabinoide sintético",
        "canabinoide sintético",
        "cannabinoïde de synthèse",
    ),
    "cannabinoid": ("cannabinoid", "cannabinoide", "canabinoide", "cannabinoïde"),
    "cathinone": ("cathinone", "catinona", "catinona", "cathinone"),
    "phenethylamine": ("phenethylamine", "fenetilamina", "fenetilamina", "phénéthylamine"),
    "arylalkylamine": ("arylalkylamine", "arilalquilamina", "arilalquilamina", "arylalkylamine"),
    "tryptamine": ("tryptamine", "triptamina", "triptamina", "tryptamine"),
    "lysergamide": ("lysergamide", "lisergamida", "lisergamida", "lysergamide"),
    "arylcyclohexylamine": (
        "arylcyclohexylamine",
        "arilciclohexilamina",
        "arilciclohexilamina",
        "arylcyclohexylamine",
    ),
    "benzodiazepine": ("benzodiazepine", "benzodiazepina", "benzodiazepina", "benzodiazépine"),
    "piperazine": ("piperazine", "piperazina", "piperazina", "pipérazine"),
    "piperidine_pyrrolidine": (
        "piperidine / pyrrolidine",
        "piperidina / pirrolidina",
        "piperidina / pirrolidina",
        "pipéridine / pyrrolidine",
    ),
    "aminoindane": ("aminoindane", "aminoindano", "aminoindano", "aminoindane"),
    "stimulant": ("stimulant", "estimulante", "estimulante", "stimulant"),
    "sedative": ("sedative", "sedante", "sedativo", "sédatif"),
    "other": ("other", "otra", "outra", "autre"),
    # confidence
    "tentative": ("tentative", "provisional", "provisória", "provisoire"),
    "confirmed": ("confirmed", "confirmada", "confirmada", "confirmée"),
}

add_words(
    {
        lang: {f"v.{term}": names[index] for term, names in TERMS.items()}
        for index, lang in enumerate(("en", "es", "pt", "fr"))
    }
)
