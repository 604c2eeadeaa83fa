"""The usage indicators of 000 « Critères d'utilisation » and 004 « Critères de paiement ».

Each rate is a numerator over a denominator, both counted by the DUI for one ESMS and one
month. The counts are what a vendor's usage export gives; the rates are computed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

#: the counts of one ESMS for one month, in CSV column order (docs/suivi.md)
COUNT_FIELDS: tuple[str, ...] = (
    "personnes_accompagnees",
    "messages_mssante",
    "dmp_alimentes",
    "dossiers_actifs",
    "dossiers_projet_personnalise",
    "dossiers_evenement",
)

COUNT_LABELS: dict[str, str] = {
    "personnes_accompagnees": "personnes accompagnées",
    "messages_mssante": "messages MSSanté envoyés",
    "dmp_alimentes": "DMP alimentés (au moins un document)",
    "dossiers_actifs": "dossiers actifs",
    "dossiers_projet_personnalise": "dossiers actifs avec un projet personnalisé",
    "dossiers_evenement": "dossiers actifs avec au moins un événement",
}


@dataclass(frozen=True)
class Indicator:
    """One rate: ``numerator / denominator`` (COUNT_FIELDS names).

    ``bounded`` says the numerator counts a subset of the denominator (a DMP fed belongs to
    one person supported), so a month above 100 % is a wrong export. MSSanté counts
    messages, several per person are normal: its rate is not bounded.
    """

    code: str
    label: str
    short: str
    numerator: str
    denominator: str
    bounded: bool


INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in (
        Indicator("mssante", "Taux d'utilisation de la MS Santé", "MSSanté",
                  "messages_mssante", "personnes_accompagnees", bounded=False),
        Indicator("dmp", "Taux d'utilisation du DMP", "DMP",
                  "dmp_alimentes", "personnes_accompagnees", bounded=True),
        Indicator("dossiers_actifs", "Taux de dossiers actifs", "Dossiers actifs",
                  "dossiers_actifs", "personnes_accompagnees", bounded=True),
        Indicator("projet_personnalise", "Taux de dossiers actifs avec un projet personnalisé",
                  "Projet personnalisé", "dossiers_projet_personnalise", "dossiers_actifs",
                  bounded=True),
        Indicator("evenement", "Taux de dossiers actifs ayant au moins un événement",
                  "Événement", "dossiers_evenement", "dossiers_actifs", bounded=True),
    )
}  # fmt: skip


@dataclass(frozen=True)
class MonthlyFigures:
    """The counts of one ESMS (FINESS ET) for one month (first day of the month)."""

    finess_et: str
    mois: date
    personnes_accompagnees: int
    messages_mssante: int
    dmp_alimentes: int
    dossiers_actifs: int
    dossiers_projet_personnalise: int
    dossiers_evenement: int

    def count(self, name: str) -> int:
        return int(getattr(self, name))

    @property
    def key(self) -> tuple[str, date]:
        return (self.finess_et, self.mois)
