"""OGs and ESMS named « Nom (FINESS) » wherever a person reads them (app, dossier sheets).

A user recognises a name, a file needs the number: both are shown. The rules and the solver
write their messages with bare FINESS numbers (« OG 180173809 à 51,9 km »);
:func:`with_names` makes such a sentence readable where it is shown, in the app and in the
XLSX dossier sheets alike (one home for the naming).
"""

from __future__ import annotations

import re

import pandas as pd

from grappes.programme.validate import text_column

FINESS_TOKEN = re.compile(r"\b(\d{9}|2[AB]\d{7})\b")


def og_labels(etab: pd.DataFrame) -> dict[str, str]:
    """FINESS EJ -> 'Nom (FINESS)': a user recognises a name, a file needs the number."""
    frame = pd.DataFrame({"ej": text_column(etab, "finess_ej"),
                          "nom": text_column(etab, "raison_sociale_ej")})
    frame = frame[frame["ej"] != ""]
    named = frame[frame["nom"] != ""].drop_duplicates("ej")
    names = dict(zip(named["ej"], named["nom"], strict=True))
    return {ej: f"{names.get(ej) or 'OG'} ({ej})" for ej in frame["ej"].unique()}


def esms_labels(etab: pd.DataFrame) -> dict[str, str]:
    """FINESS ET -> 'Nom (FINESS)'."""
    et = text_column(etab, "finess_et")
    names = text_column(etab, "raison_sociale")
    return {e: f"{n or 'ESMS'} ({e})" for e, n in zip(et, names, strict=True)}


#: « OG 180173809 » or « OG 180173809+180305781 » (OGs the solver keeps together)
OG_TOKEN = r"\bOG ((?:\d{9}|2[AB]\d{7})(?:\+(?:\d{9}|2[AB]\d{7}))*)\b"
ANY_TOKEN = re.compile(f"{OG_TOKEN}|{FINESS_TOKEN.pattern}")


def with_names(message: str, labels: dict[str, str]) -> str:
    """A sentence with bare FINESS numbers ('OG verrouillés ensemble : 180196156, …') made
    readable: each known number becomes 'Nom (FINESS)'. « OG 360405005 à 51,9 km » becomes
    « CCAS X (360405005) à 51,9 km » and the solver's « OG 180173809+180305781 » (OGs kept
    together) « A (180173809) + B (180305781) »: the word OG is dropped when the name says it.
    """
    def name(m: re.Match[str]) -> str:
        if m.group(1) is None:  # a bare number
            return labels.get(m.group(2), m.group(2))
        numbers = m.group(1).split("+")
        if not all(n in labels for n in numbers):
            return m.group(0)
        return " + ".join(labels[n] for n in numbers)

    # one pass: a name holding a number is not named again
    return ANY_TOKEN.sub(name, str(message))
