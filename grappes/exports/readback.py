"""Read back a grouping the tool wrote and the user edited, and cost it (``grappes chiffrer``);
read the candidates of the funding choice (``grappes selectionner``).

Why in ``exports``: these readers take the files ``grappes proposer --sortie`` writes
(``etablissements.csv``, ``grappes.csv``, the ``--json`` output), edited in French Excel, and
read their columns by the names ``grappes.exports.files`` gives them (French headers or
stable names, codes before labels) — the one vocabulary of writers and readers. The command
modules (``grappes.cli.chiffrer``, ``grappes.cli.selectionner``) only parse options and print.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from grappes.core.columns import FALSE_WORDS, TRUE_WORDS, text_column
from grappes.core.errors import GrappesError
from grappes.core.model import ETAB_COLUMNS
from grappes.exports.files import ETABLISSEMENTS_CSV, GRAPPES_CSV, column_names, header_of
from grappes.ingest.grouping import grouping_problems, problems_message
from grappes.programme.costing import GrappeCost, cost_grappe
from grappes.programme.funding_select import (
    PRIORITY_COLUMNS,
    grappe_traits,
)
from grappes.programme.rules import RuleSet
from grappes.programme.validate import dominant_champ, grouping_violations

#: columns ``cost`` needs; the others of ETAB_COLUMNS get defaults when absent
REQUIRED_COLUMNS: tuple[str, ...] = ("finess_et", "finess_ej", "champ", "grappe")

class InputError(GrappesError, ValueError):
    """A user file cannot be used; the message names the line and the field (exit code 1,
    2 for a missing file)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --------------------------------------------------------------------------- reading


def _read_csv(path: Path) -> pd.DataFrame:
    import csv
    import io

    from grappes.ingest.base import decode_text, read_bytes
    from grappes.ingest.errors import IngestError

    if not path.is_file():
        msg = f"{path} : fichier introuvable."
        raise InputError(msg, exit_code=2)
    try:
        # French refusal of binary, empty or mixed-up files (line ends, encodings, BOM)
        text = decode_text(read_bytes(path, 300_000_000, path.name), path.name).text
        return pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    except IngestError as exc:
        raise InputError(str(exc)) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        msg = f"{path} : CSV illisible (séparateur « ; » attendu) : {exc}"
        raise InputError(msg) from exc


def read_grouping_csv(path: str | Path) -> pd.DataFrame:
    """The normalised establishments table + ``grappe`` from an ``etablissements.csv``.

    Codes stay strings; booleans accept true/false, vrai/faux, oui/non, 1/0; numbers accept
    a decimal comma. Missing optional columns get defaults (``og_nb_esms`` is counted from
    the file). Raises :class:`InputError` naming the line (header = line 1) and the field.
    """
    path = Path(path)
    raw = _read_csv(path)
    # French headers (« FINESS ET ») or the names of earlier files (finess_et)
    written = [str(c).strip().lstrip("'") for c in raw.columns]
    raw.columns = column_names(written, ETABLISSEMENTS_CSV)
    # messages name a column as the user's file does
    as_written = dict(zip(raw.columns, written, strict=True))
    raw = _codes_back(raw)
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        named = ", ".join(f"« {header_of(ETABLISSEMENTS_CSV, c)} » ({c})" for c in missing)
        msg = (f"{path.name} : colonne(s) manquante(s) : {named} "
               "(le fichier etablissements.csv écrit par « grappes proposer » les contient).")
        raise InputError(msg)
    out: dict[str, pd.Series] = {}
    n = len(raw)
    for col, (dtype, _) in ETAB_COLUMNS.items():
        if col not in raw.columns:
            continue
        values = raw[col].astype(str).str.strip().str.lstrip("'")
        if dtype == "string":
            out[col] = values.astype("string")
        elif dtype == "boolean":
            low = values.str.lower()
            bad = ~(low.isin(TRUE_WORDS | FALSE_WORDS) | (low == "") | (low == "<na>"))
            if bad.any():
                i = int(bad.to_numpy().nonzero()[0][0])
                msg = (f"{path.name}, ligne {i + 2}, champ {as_written.get(col, col)} : "
                       f"« {values.iloc[i]} » n'est pas un booléen (oui / non, true / false, "
                       "1 / 0).")
                raise InputError(msg)
            out[col] = low.map(lambda v: True if v in TRUE_WORDS else
                               (False if v in FALSE_WORDS else pd.NA)).astype("boolean")
        else:
            num = pd.to_numeric(values.str.replace(",", ".", regex=False)
                                .replace({"": None, "<NA>": None, "nan": None}), errors="coerce")
            bad = num.isna() & ~values.isin(["", "<NA>", "nan"])
            if bad.any():
                i = int(bad.to_numpy().nonzero()[0][0])
                msg = (f"{path.name}, ligne {i + 2}, champ {as_written.get(col, col)} : "
                       f"« {values.iloc[i]} » n'est pas un nombre.")
                raise InputError(msg)
            out[col] = num.astype("float64")
    table = pd.DataFrame(out, index=raw.index)
    problems = [replace(p, field=as_written.get(p.field, p.field))
                for p in grouping_problems(table)]
    if problems:
        raise InputError(problems_message(path.name, problems))
    for col, (dtype, _) in ETAB_COLUMNS.items():
        if col in table.columns and dtype != "int64":
            continue
        if col == "ligne":
            table[col] = pd.Series(range(2, n + 2), index=raw.index, dtype="int64")
        elif col == "og_nb_esms":
            counts = table["finess_ej"].map(table["finess_ej"].value_counts())
            given = table[col] if col in table.columns else pd.Series(math.nan, index=raw.index)
            table[col] = given.fillna(counts).astype("int64")
        elif dtype == "string":
            table[col] = pd.Series("", index=raw.index, dtype="string")
        elif dtype == "boolean":
            table[col] = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        else:
            table[col] = pd.Series(math.nan, index=raw.index, dtype="float64")
    if "dui_statut" not in raw.columns:
        table["dui_statut"] = "inconnu"
    empty_et = table["finess_et"] == ""
    if empty_et.any():
        i = int(empty_et.to_numpy().nonzero()[0][0])
        msg = f"{path.name}, ligne {i + 2}, champ finess_et : numéro FINESS vide."
        raise InputError(msg)
    dup = table["finess_et"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        msg = (f"{path.name}, ligne {i + 2}, champ finess_et : « {table['finess_et'].iloc[i]} » "
               "apparaît deux fois.")
        raise InputError(msg)
    table = table[list(ETAB_COLUMNS)]
    table["grappe"] = raw["grappe"].astype(str).str.strip().str.lstrip("'").astype("string")
    porteur = _porteur_column(raw, table)
    if porteur is not None:
        table["porteur"] = porteur
    return table.reset_index(drop=True)


def _codes_back(raw: pd.DataFrame) -> pd.DataFrame:
    """Columns written for people back to the codes the library reads.

    ``etablissements.csv`` carries labels ("à mettre à niveau") with the code in
    ``<name>_code``: the code wins when present, else a known label is mapped back; a column
    renamed for the file (``source_coordonnees``) gets its library name back.
    """
    from grappes.exports.tables import LABELLED, RENAMED

    raw = raw.copy()
    for col, labels in LABELLED.items():
        code_col = f"{col}_code"
        if code_col in raw.columns:
            raw[col] = raw[code_col]
        elif col in raw.columns:
            back = {label.casefold(): code for code, label in labels.items()}
            raw[col] = raw[col].map(lambda v, back=back: back.get(str(v).strip().casefold(), v))
    for library, written in RENAMED.items():
        if written in raw.columns and library not in raw.columns:
            raw[library] = raw[written]
    return raw


def _porteur_column(raw: pd.DataFrame, table: pd.DataFrame) -> pd.Series | None:
    """The porteur (FINESS EJ) of each row's grappe, from ``porteur`` and/or ``og_porteur``.

    ``porteur`` holds a FINESS EJ (or ET); older files wrote ``oui`` on the rows of the
    porteur's ESMS instead: both are read, as is ``og_porteur`` (oui/non, True/False).
    """
    flag = None
    for col in ("og_porteur", "porteur"):
        if col in raw.columns:
            low = raw[col].astype(str).str.strip().str.lower()
            if low.isin(TRUE_WORDS | FALSE_WORDS | {""}).all():
                flag = low.isin(TRUE_WORDS) if flag is None else (flag | low.isin(TRUE_WORDS))
    given = None
    if "porteur" in raw.columns:
        values = raw["porteur"].astype(str).str.strip().str.lstrip("'")
        if not values.str.lower().isin(TRUE_WORDS | FALSE_WORDS | {""}).all():
            given = values.where(~values.str.lower().isin(TRUE_WORDS | FALSE_WORDS), "")
    if given is None and flag is None:
        return None
    if given is None:
        given = pd.Series("", index=raw.index)
        grappe = table["grappe"].astype(str)
        ej = table["finess_ej"].astype(str)
        chosen = pd.DataFrame({"g": grappe[flag], "ej": ej[flag]}).drop_duplicates("g")
        given = grappe.map(dict(zip(chosen["g"], chosen["ej"], strict=True))).fillna("")
    return given.astype("string")


def read_declarations(path: str | Path) -> dict[str, dict[str, bool]]:
    """Declared criteria per grappe from a CSV ``grappe;critere`` (optional ``valeur`` oui/non)."""
    path = Path(path)
    raw = _read_csv(path)
    for col in ("grappe", "critere"):
        if col not in raw.columns:
            msg = f"{path.name} : colonne « {col} » manquante (attendu : grappe;critere;valeur)."
            raise InputError(msg)
    out: dict[str, dict[str, bool]] = {}
    for i, r in raw.iterrows():
        value = str(r.get("valeur", "oui") or "oui").strip().lower()
        if value not in TRUE_WORDS | FALSE_WORDS:
            msg = f"{path.name}, ligne {int(i) + 2}, champ valeur : oui ou non attendu."
            raise InputError(msg)
        out.setdefault(str(r["grappe"]).strip(), {})[str(r["critere"]).strip()] = (
            value in TRUE_WORDS)
    return out


# --------------------------------------------------------------------------- costing a file


def cost_grouping(
    etab: pd.DataFrame,
    rules: RuleSet,
    declarations: Mapping[str, Mapping[str, bool]] | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Cost and check every grappe of a grouping: one dict per grappe, and warnings.

    Keys starting with ``_`` hold the Python objects (cost, members) and are dropped from
    the JSON output.
    """
    grappe = text_column(etab, "grappe")
    violations = grouping_violations(etab, grappe, rules.grouping)
    declarations = declarations or {}
    unknown = sorted(set(declarations) - set(violations))
    out = []
    for gid, vs in violations.items():
        members = etab[grappe == gid]
        porteur = None
        if "porteur" in members.columns:
            given = [p for p in text_column(members, "porteur") if p]
            porteur = given[0] if given else None
        try:
            cost = cost_grappe(members, rules, porteur=porteur, declared=declarations.get(gid))
        except ValueError as exc:
            msg = f"Grappe {gid} : {exc}"
            raise InputError(msg) from exc
        out.append({
            "id": gid,
            "champ": dominant_champ(members, rules.grouping) or "",
            "n_membres": len(members),
            "og": sorted(set(text_column(members, "finess_ej")) - {""}),
            "departements": sorted(set(text_column(members, "departement")) - {""}),
            "statut": _porteur_statut(members, cost.porteur),
            "violations": [v.as_dict() for v in vs],
            **cost.as_dict(),
            "_cost": cost,
            "_members": members,
        })
    warnings = []
    if unknown:
        warnings.append(f"Déclarations pour des grappes absentes : {', '.join(unknown)}.")
    return out, warnings


def _porteur_statut(members: pd.DataFrame, porteur: str) -> str:
    statut = text_column(members, "statut_agrege")[text_column(members, "finess_ej") == porteur]
    return str(statut.iloc[0]) if len(statut) else ""


def public_cost(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


# --------------------------------------------------------------------------- candidates


def candidates_from_file(path: str | Path, rules: RuleSet) -> pd.DataFrame:
    """The ``select`` input from a ``grappes.csv``, an ``etablissements.csv`` or propose JSON."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, json.JSONDecodeError) as exc:
            msg = f"{path.name} : JSON illisible ({exc})."
            raise InputError(msg) from exc
        items = data.get("grappes") if isinstance(data, dict) else data
        skipped: list[str] = []
        if not isinstance(items, list):
            msg = f"{path.name} : liste « grappes » attendue (sortie de grappes proposer --json)."
            raise InputError(msg)
        rows = []
        for i, g in enumerate(items, 1):
            if not isinstance(g, dict):
                msg = f"{path.name} : grappes[{i}] : objet attendu."
                raise InputError(msg)
            if g.get("valide") is False:
                skipped.append(str(g.get("id", g.get("grappe"))))
                continue  # only a valid grappe can be funded
            funding = g.get("funding") if isinstance(g.get("funding"), dict) else g
            score = g.get("score") if isinstance(g.get("score"), dict) else None
            points = g.get("points_grille", score.get("total") if score else g.get("points"))
            if isinstance(points, dict):
                points = sum(v for v in points.values() if isinstance(v, int | float))
            rows.append({"grappe": g.get("id", g.get("grappe")), "total": funding.get("total"),
                         "points": points, "departements": g.get("departements", []),
                         "champ": g.get("champ", ""), "statut": g.get("statut", ""),
                         "fenetre": g.get("fenetre", 1),
                         "nom": g.get("porteur_nom", g.get("nom", "")),
                         **{k: g[k] for k in PRIORITY_COLUMNS if k in g}})
        return _with_skipped(pd.DataFrame(rows), skipped)
    raw = _read_csv(path)
    raw.columns = column_names(list(raw.columns), GRAPPES_CSV, ETABLISSEMENTS_CSV)
    if "finess_et" in raw.columns and "grappe" in raw.columns:
        etab = read_grouping_csv(path)
        etab = etab[text_column(etab, "grappe") != ""]
        rows = []
        skipped = []
        for g in cost_grouping(etab, rules)[0]:
            if g["violations"]:
                skipped.append(g["id"])
                continue  # only a valid grappe can be funded
            cost: GrappeCost = g["_cost"]
            members = g["_members"]
            deps = text_column(members, "departement")[text_column(members, "departement") != ""]
            rows.append({"grappe": g["id"], "total": cost.total, "points": cost.score.total,
                         "champ": g["champ"], "statut": g["statut"],
                         "departements": sorted(set(deps)),
                         "poids_departements": {str(k): float(v)
                                                for k, v in deps.value_counts().items()},
                         **grappe_traits(members, cost, rules.grouping)})
        return _with_skipped(pd.DataFrame(rows), skipped)
    aliases = {"grappe": ("grappe", "id"),
               "total": ("financement", "total", "funding_total", "financement_total", "montant"),
               "points": ("points_grille", "points", "score", "points_total"),
               "statut": ("statut_code", "statut", "statut_agrege")}
    skipped = []
    if "valide" in raw.columns:
        # only a valid grappe can be funded: the others are left out of the candidates
        bad = raw["valide"].astype(str).str.strip().str.lower().isin(FALSE_WORDS)
        skipped = [str(x) for x in raw.loc[bad, "grappe"]] if "grappe" in raw.columns else []
        raw = raw[~bad]
    out = pd.DataFrame(index=raw.index)
    for target, names in aliases.items():
        for name in names:
            if name in raw.columns:
                out[target] = raw[name]
                break
    for col in ("departements", "champ", "fenetre", "regions", *PRIORITY_COLUMNS):
        if col in raw.columns and col not in out.columns:
            out[col] = raw[col]
    if "porteur_nom" in raw.columns:
        out["nom"] = raw["porteur_nom"]
    for col in ("total", "points"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col].astype(str).str.strip().str.replace(
                "\u202f", "").str.replace(" ", "").str.replace(",", ".", regex=False),
                errors="coerce")
    return _with_skipped(out, skipped)


def _with_skipped(frame: pd.DataFrame, skipped: list[str]) -> pd.DataFrame:
    """Remember the invalid grappes left out of the candidates (printed by ``select``)."""
    frame.attrs["invalides"] = list(skipped)
    return frame
