"""The drug class vocabulary of a match result (../shared/INTERFACE.md)."""

CLASSES = frozenset(
    {
        "opioid",
        "synthetic_cannabinoid",
        "cannabinoid",
        "cathinone",
        "phenethylamine",
        "arylalkylamine",
        "tryptamine",
        "lysergamide",
        "arylcyclohexylamine",
        "benzodiazepine",
        "piperazine",
        "piperidine_pyrrolidine",
        "aminoindane",
        "stimulant",
        "sedative",
        "other",
    }
)
