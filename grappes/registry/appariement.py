"""From stored declarations to the solver's table and back to stored grappes.

The solver knows OGs and ESMS, not declarations: each declared ESMS becomes one row of the
establishments table (``adapters.etab_table``), refused partners become ``apart`` locks,
partners wished by BOTH sides become ``together`` locks (a one-sided wish is a preference,
not a rule), and the porteur preference picks the porteur among the members. A declared
maximum distance or list of accepted fields is not a solver rule: a grappe breaking one
carries a warning naming the member, for the coordinator to decide.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from grappes.registry import adapters
from grappes.registry.models import Declaration

#: columns of the stored snapshot of the solver's table
SNAPSHOT_COLUMNS = tuple(adapters.ETAB_COLUMNS)


@dataclass
class Entree:
    """The solver's input built from declarations."""

    etab: pd.DataFrame
    declaration_of: dict[str, int]  # FINESS ET -> declaration id
    together: list[tuple[str, ...]]
    apart: list[tuple[str, str]]
    avertissements: list[str]


def build_input(declarations: Sequence[Declaration], finess: pd.DataFrame | None) -> Entree:
    rows: list[dict[str, Any]] = []
    declaration_of: dict[str, int] = {}
    warnings: list[str] = []
    index = finess  # indexed by FINESS ET (adapters.finess_index)
    for d in sorted(declarations, key=lambda x: x.id):
        for e in d.esms:
            if e.finess_et in declaration_of:
                warnings.append(
                    f"ESMS {e.finess_et} déclaré deux fois (déclarations "
                    f"{declaration_of[e.finess_et]} et {d.id}) : seule la première compte"
                )
                continue
            declaration_of[e.finess_et] = d.id
            dui = {
                "dui_editeur": d.dui_editeur,
                "dui_statut": d.dui_statut,
                "editeur_segur": pd.NA if d.editeur_segur is None else bool(d.editeur_segur),
            }
            if index is not None and e.finess_et in index.index:
                row = index.loc[e.finess_et]
                if isinstance(row, pd.DataFrame):
                    row = row.iloc[0]
                rows.append({**row.to_dict(), **dui})
                continue
            rows.append({
                "finess_et": e.finess_et, "finess_ej": d.finess_ej,
                "raison_sociale": e.raison_sociale, "raison_sociale_ej": d.raison_sociale_ej,
                "categorie": e.categorie, "champ": e.champ, "commune": e.commune,
                "departement": e.departement, "region": e.region,
                "lon": math.nan if e.lon is None else e.lon,
                "lat": math.nan if e.lat is None else e.lat,
                **dui,
            })  # fmt: skip
    etab = adapters.etab_table(rows) if rows else adapters.etab_table([])
    ogs = {d.finess_ej for d in declarations}
    wished = {(d.finess_ej, p) for d in declarations for p in d.partenaires_souhaites}
    together = sorted({tuple(sorted((a, b))) for a, b in wished if (b, a) in wished and a != b
                       and a in ogs and b in ogs})
    apart = sorted({tuple(sorted((d.finess_ej, p))) for d in declarations
                    for p in d.partenaires_refuses if p in ogs and p != d.finess_ej})
    return Entree(etab, declaration_of, [tuple(t) for t in together],
                  [(a, b) for a, b in apart], warnings)


def snapshot(etab: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows (NaN / NA -> None) of the table, for the proposal record."""
    out = []
    for rec in etab.astype(object).to_dict(orient="records"):
        clean = {}
        for k, v in rec.items():
            if v is pd.NA or v is None or (isinstance(v, float) and math.isnan(v)):
                clean[k] = None
            elif isinstance(v, np.generic):
                clean[k] = v.item()
            else:
                clean[k] = v
        out.append(clean)
    return out


def from_snapshot(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(SNAPSHOT_COLUMNS))
    out = pd.DataFrame(index=frame.index)
    for col, (dtype, _) in adapters.ETAB_COLUMNS.items():
        values = frame[col]
        if dtype == "float64":
            out[col] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif dtype == "int64":
            out[col] = pd.to_numeric(values, errors="coerce").fillna(0).astype("int64")
        elif dtype == "boolean":
            out[col] = values.astype("boolean")
        else:
            out[col] = values.fillna("").astype("string")
    return out


def choose_porteur(members: Sequence[Declaration], solver_choice: str | None) -> str:
    """The porteur OG: a volunteer first (most ESMS), else the solver's unless it declined."""
    volunteers = [d for d in members if d.porteur == "volontaire"]
    if volunteers:
        best = max(volunteers, key=lambda d: (len(d.esms), -d.id))
        return best.finess_ej
    refusing = {d.finess_ej for d in members if d.porteur == "non"}
    if solver_choice and solver_choice not in refusing:
        return solver_choice
    others = [d for d in members if d.finess_ej not in refusing]
    return max(others, key=lambda d: (len(d.esms), -d.id)).finess_ej if others else ""


def preference_warnings(members: Sequence[Declaration], champ: str) -> list[str]:
    """Declared maximum distances and accepted fields that the grappe does not honour."""
    from grappes.geo.distances import haversine_km

    out = []
    for d in members:
        if d.champs_acceptes and champ not in d.champs_acceptes:
            out.append(f"l'OG {d.finess_ej} n'accepte que les champs "
                       f"{', '.join(d.champs_acceptes)} (grappe {champ})")
        if d.distance_max_km is None:
            continue
        mine = [(e.lon, e.lat) for e in d.esms if e.lon is not None]
        theirs = [(e.lon, e.lat) for o in members if o.id != d.id for e in o.esms
                  if e.lon is not None]
        if not mine or not theirs:
            continue
        a = np.array(mine)
        b = np.array(theirs)
        far = float(np.max([np.min(haversine_km(x, y, b[:, 0], b[:, 1])) for x, y in a]))
        worst = float(np.max([np.max(haversine_km(x, y, b[:, 0], b[:, 1])) for x, y in a]))
        if worst > d.distance_max_km:
            out.append(f"l'OG {d.finess_ej} souhaite des partenaires à {d.distance_max_km:g} km "
                       f"au plus : le plus éloigné est à {worst:.0f} km "
                       f"(le plus proche à {far:.0f} km)")
    return out


def unique_codes(solver_ids: Sequence[str], taken: set[str]) -> dict[str, str]:
    """Registry codes for a new matching's grappes: the solver's id when no grappe of the
    registry carries it yet, else the next free number of the same prefix (« PA-24-001 »
    taken → « PA-24-004 » after « PA-24-003 »). A code then names one grappe in the registry,
    whatever matching made it: two runs numbered from 001 each gave the ARS two « PA-24-001 »
    (issue 18, M1; issue 20, item 7). Deterministic: solver order, lowest free number."""
    used = set(taken)
    out: dict[str, str] = {}
    for sid in solver_ids:
        code = sid
        if code in used:
            prefix, _, number = sid.rpartition("-")
            width = max(len(number), 3)
            same = [c.rpartition("-")[2] for c in used if c.rpartition("-")[0] == prefix]
            last = max((int(n) for n in same if n.isdigit()), default=0)
            code = f"{prefix}-{last + 1:0{width}d}"
        used.add(code)
        out[sid] = code
    return out
