"""Check a hand-edited grouping file (``grappes chiffrer``) and the candidates of
``grappes selectionner``.

Why: ``cost`` re-costs the ``etablissements.csv`` written by ``grappes proposer`` after a user
edited it in a spreadsheet. Every numeric and coded column feeds the money: ``og_nb_esms=-5``
raised the funding from 46.6 M€ to 58.9 M€ without a word. Each value is checked here for
its type, its range and its consistency with the other rows (same OG, same département);
all problems are listed with their line (header = line 1) and field, and the file is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from grappes.core.formatting import integer_fr
from grappes.core.model import CHAMPS, DUI_INCONNU, DUI_STATUTS, HORS_CHAMP, STATUTS_AGREGES
from grappes.core.vocabulary import OG_GROS_MIN as GROS_MIN
from grappes.core.vocabulary import OG_MOYEN_MIN as MOYEN_MIN

#: problems listed in the message; the count of the others follows
MAX_SHOWN = 15
#: above this, a grappe amount cannot be an ESMS numérique funding (euros)
MAX_AMOUNT = 1e10


@dataclass(frozen=True)
class Problem:
    """One refused value: line (1-based, header = 1), field, value and reason (French)."""

    line: int
    field: str
    value: str
    reason: str

    def text(self) -> str:
        return f"ligne {self.line}, champ {self.field} : « {self.value[:40]} » {self.reason}"


def problems_message(name: str, problems: list[Problem]) -> str:
    """One French message listing the first problems and counting the rest."""
    shown = "\n".join(f"  - {p.text()}" for p in problems[:MAX_SHOWN])
    rest = len(problems) - MAX_SHOWN
    more = f"\n  … et {rest} autre(s)" if rest > 0 else ""
    return f"{name} : {len(problems)} valeur(s) impossible(s), fichier refusé :\n{shown}{more}"


def _lines(index: pd.Index) -> np.ndarray:
    return np.arange(len(index)) + 2


def _add(out: list[Problem], mask: pd.Series, values: pd.Series, field: str, reason: str) -> None:
    mask = pd.Series(mask, index=values.index).fillna(False).astype(bool)
    lines = _lines(values.index)
    for pos in np.flatnonzero(mask.to_numpy()):
        value = values.iloc[pos]
        out.append(Problem(int(lines[pos]), field, "" if pd.isna(value) else str(value), reason))


def grouping_problems(table: pd.DataFrame) -> list[Problem]:
    """Every impossible value of a grouping table (strings, floats and booleans parsed).

    ``table`` holds the columns of the file that are known (``ETAB_COLUMNS`` names),
    row ``i`` coming from line ``i + 2``. Missing columns are not checked (they get
    defaults computed from the rows).
    """
    from grappes.geo.territories import get_territoires, is_derogatoire

    out: list[Problem] = []
    cols = table.columns

    def text(col: str) -> pd.Series:
        return table[col].astype("string").fillna("").str.strip()

    # identifiers: emptiness and repeats are checked by the reader; their check key does not
    # change the money, and test or partner files may carry numbers without one
    if "champ" in cols:
        champ = text("champ")
        allowed = (*CHAMPS, HORS_CHAMP)
        _add(out, ~champ.isin(allowed), champ, "champ", f"inconnu (admis : {', '.join(allowed)})")
    if "categorie" in cols:
        cat = text("categorie")
        bad = (cat != "") & ~cat.str.fullmatch(r"[0-9]{3}").fillna(False).astype(bool)
        _add(out, bad, cat, "categorie", "n'est pas un code catégorie à 3 chiffres")
    if "statut_juridique" in cols:
        st = text("statut_juridique")
        bad = (st != "") & ~st.str.fullmatch(r"[0-9]{2}").fillna(False).astype(bool)
        _add(out, bad, st, "statut_juridique", "n'est pas un code à 2 chiffres")
    coded = {
        "statut_agrege": STATUTS_AGREGES,
        "dui_statut": (*DUI_STATUTS, DUI_INCONNU),
        "og_typologie": ("petit", "moyen", "gros"),
        "coord_source": ("fichier", "centroide_commune", "aucune"),
    }
    for col, allowed in coded.items():
        if col in cols:
            values = text(col)
            bad = (values != "") & ~values.isin(allowed)
            _add(out, bad, values, col, f"inconnu (admis : {', '.join(allowed)})")
    _numbers(table, out)
    _territory(table, out, get_territoires(), is_derogatoire)
    _og_consistency(table, out)
    out.sort(key=lambda p: (p.line, p.field))
    return out


def _numbers(table: pd.DataFrame, out: list[Problem]) -> None:
    bounds = {"lon": (-180.0, 180.0), "lat": (-90.0, 90.0), "capacite": (0.0, 1e6)}
    for col, (low, high) in bounds.items():
        if col not in table.columns:
            continue
        values = pd.to_numeric(table[col], errors="coerce").astype("float64")
        given = values.notna()
        bad = given & ~(np.isfinite(values) & (values >= low) & (values <= high))
        _add(out, bad, table[col], col, f"hors des bornes ({low:g} à {high:g})")
    if "og_nb_esms" in table.columns:
        nb = pd.to_numeric(table["og_nb_esms"], errors="coerce").astype("float64")
        given = nb.notna()
        whole = np.isfinite(nb) & (nb == np.floor(nb))
        _add(out, given & ~whole, table["og_nb_esms"], "og_nb_esms", "n'est pas un nombre entier")
        ok = given & whole
        # 0 is what the tool writes for an OG that runs no ESMS of the programme's fields
        # (a hospital's own rows); negative counts are impossible
        low = ok & (nb < 0)
        _add(out, low, table["og_nb_esms"], "og_nb_esms", "ne peut pas être négatif")
        high = ok & (nb > 100_000)
        _add(out, high, table["og_nb_esms"], "og_nb_esms", "trop grand (au plus 100 000)")


def _territory(table: pd.DataFrame, out: list[Problem], terr, is_derogatoire) -> None:
    if "departement" not in table.columns:
        return
    dep = table["departement"].astype("string").fillna("").str.strip()
    known = set(terr.departements.index)
    unknown = (dep != "") & ~dep.isin(known)
    _add(out, unknown, dep, "departement", "n'est pas un code département INSEE")
    ok = (dep != "") & ~unknown
    if "region" in table.columns:
        region = table["region"].astype("string").fillna("").str.strip()
        expected = dep.map(terr.departements["region"]).astype("string").fillna("")
        bad = ok & (region != expected)
        _add(out, bad, region, "region", "ne correspond pas au département de la ligne")
    if "derogatoire" in table.columns:
        flag = table["derogatoire"].astype("boolean")
        expected = dep.map({d: is_derogatoire(d) for d in pd.unique(dep[ok])}).astype("boolean")
        bad = ok & flag.notna() & (flag != expected).fillna(False)
        _add(
            out,
            bad,
            table["derogatoire"].astype("string"),
            "derogatoire",
            "ne correspond pas au département (seul la Corse et l'outre-mer sont dérogatoires)",
        )


def _og_consistency(table: pd.DataFrame, out: list[Problem]) -> None:
    """Same OG, same figures; at least as many ESMS as the file shows; typology agrees."""
    if "og_nb_esms" not in table.columns or "finess_ej" not in table.columns:
        return
    nb = pd.to_numeric(table["og_nb_esms"], errors="coerce").astype("float64")
    ej = table["finess_ej"].astype("string").fillna("").str.strip()
    champ = (
        table["champ"].astype("string").fillna("")
        if "champ" in table.columns
        else pd.Series("", index=table.index)
    )
    esms = champ.isin(CHAMPS)
    valid = nb.notna() & np.isfinite(nb) & (nb >= 1)
    differs = valid & (nb != nb.where(valid).groupby(ej).transform("first"))
    _add(
        out,
        differs,
        table["og_nb_esms"],
        "og_nb_esms",
        "différent des autres lignes du même OG (finess_ej)",
    )
    in_file = esms.groupby(ej).transform("sum")
    fewer = valid & esms & (nb < in_file)
    _add(
        out,
        fewer,
        table["og_nb_esms"],
        "og_nb_esms",
        "inférieur au nombre d'ESMS de cet OG présents dans le fichier",
    )
    if "og_typologie" in table.columns:
        typo = table["og_typologie"].astype("string").fillna("").str.strip()
        expected = pd.Series(
            np.where(nb >= GROS_MIN, "gros", np.where(nb >= MOYEN_MIN, "moyen", "petit")),
            index=table.index,
        )
        bad = valid & (typo != "") & (typo != expected)
        _add(
            out,
            bad,
            typo,
            "og_typologie",
            f"ne correspond pas à og_nb_esms (petit < {MOYEN_MIN}, gros ≥ {GROS_MIN})",
        )
    if "autonome" in table.columns:
        auto = table["autonome"].astype("boolean")
        bad = valid & auto.fillna(False).astype(bool) & (nb != 1)
        _add(
            out,
            bad,
            table["autonome"].astype("string"),
            "autonome",
            "oui alors que l'OG gère plusieurs ESMS (og_nb_esms)",
        )


def candidate_problems(frame: pd.DataFrame) -> list[Problem]:
    """Impossible amounts and points in ``select`` candidates (NaN, inf, negative, huge)."""
    out: list[Problem] = []
    if "grappe" in frame.columns:
        ids = frame["grappe"].astype("string").fillna("").str.strip()
        _add(out, ids == "", frame["grappe"].astype("string"), "grappe", "identifiant vide")
    for col, high in (("total", MAX_AMOUNT), ("points", 1e6)):
        if col not in frame.columns:
            continue
        raw = frame[col]
        text = raw.astype("string").fillna("").str.strip().str.replace(",", ".", regex=False)
        values = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = ~(np.isfinite(values) & (values >= 0) & (values <= high))
        _add(
            out,
            bad,
            raw.astype("string"),
            col,
            f"nombre fini entre 0 et {integer_fr(high)} attendu",
        )
    return out
