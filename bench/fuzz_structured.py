"""Structured inputs for the fuzz harness (issue 21): the FINESS+ JSON flow and scenario files.

``bench/fuzz_inputs.py`` mutates line-oriented CSV files; the FINESS+ reader and the scenario
file reader take JSON, whose attacks are structural. Each mutation here picks one record (a
``pmej`` of the flow, a part of the scenario) and does one of:

- **nesting**: a value replaced by a list nested 65 to 20,000 levels deep;
- **duplicate key**: a key of the record given twice, with the same value, another value,
  or another case (``ege`` / ``EGE``);
- **wrong type**: a value replaced by a list, an object, a number, true, null or a long text;
- **surrogate**: a lone UTF-16 surrogate escape (``\\udc00``, ``\\ud800``) put in a text;
- **concatenation**: the file followed by itself or by a part of itself;
- plus a BOM, a gzip wrapping (FINESS+), a truncation, and, for scenario files, the
  checksum recomputed after the change in half the inputs (so the change reaches the reader
  of each field instead of stopping at the checksum).

Outcomes (same words as the line harness):

- FINESS+: clean when the file is refused with an ``IngestError``, or loaded with every
  ``ege`` loaded, set aside or rejected (the reader's accounting) and every establishment of
  the untouched ``pmej`` loaded with the same values as unmutated; a changed or missing
  untouched establishment without a new warning is a silent change;
- scenario: clean when refused with a ``ScenarioFileError``, or loaded with every ESMS named
  in a grappe's list either placed, excluded, or named in a note; else a silent change.
  Any other exception is a crash.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from dataclasses import dataclass
from typing import Any

STRUCTURED_KINDS = ("finess_plus", "scenario")
MARK = "@@FUZZ@@"
_DIGITS = re.compile(r"[0-9]+")


@dataclass
class StructuredBase:
    """The unmutated FINESS+ document of the slice and its scenario file."""

    finess_plus: dict[str, Any]
    scenario: bytes


def build_structured(etalab: bytes, ej: bytes, dui: bytes) -> StructuredBase:
    """The FINESS+ document of the same slice (from the committed sample flow) and the
    scenario file of a proposal on the slice (one edit made, so the edits travel too)."""
    from grappes.ingest import load
    from grappes.ingest.sample import sample_dir
    from grappes.scenarios.scenario import Scenario
    from grappes.scenarios.scenario_file import save_scenario
    from grappes.scenarios.whatif import WhatIf
    from grappes.solver.propose import propose

    result = load(etalab, ej=ej, dui=dui)
    keys = set(result.etablissements["finess_et"].astype(str))
    raw = gzip.decompress((sample_dir() / "finess-structures-journalier-20260512.json.gz")
                          .read_bytes())
    doc = json.loads(raw)
    pms = []
    for pm in doc["pmej"]:
        eges = [e for e in pm.get("ege", [])
                if e["informationsGeneralesEGE"]["numFinessEge"] in keys]
        if eges:
            pms.append({**pm, "ege": eges})
    doc["pmej"] = pms
    report = propose(result, None, seed=0, time_limit=0.5)
    w = WhatIf.from_report(report)
    if w.grappe_ids and w.members(w.grappe_ids[0]):
        w.exclude_esms(w.members(w.grappe_ids[0])[0])
    start = Scenario.from_report(report)
    data = save_scenario(w, result, scope=start.scope, settings=start.settings)
    return StructuredBase(doc, data)


@dataclass
class StructuredInput:
    index: int
    kind: str
    data: bytes
    mutations: list[str]
    touched_pmej: set[int]


def _deep(rng: random.Random) -> str:
    n = rng.choice((65, 200, 1000, 10_000, 20_000))
    return "[" * n + "]" * n


def _wrong(rng: random.Random) -> Any:
    return rng.choice([[1, 2], {"code": {"code": "x"}}, 12345678901, 1.5e300, True, None,
                       "x" * 5000, "", -1, {"a": [{"b": None}]}])


def _walk(node: Any, rng: random.Random) -> tuple[Any, Any]:
    """A random (container, key) inside ``node`` (a dict or list with at least one item)."""
    parent, key = None, None
    current = node
    for _ in range(rng.randint(1, 6)):
        if isinstance(current, dict) and current:
            k = rng.choice(list(current))
        elif isinstance(current, list) and current:
            k = rng.randrange(len(current))
        else:
            break
        parent, key = current, k
        current = current[k]
    return parent, key


def _mutate_doc(rng: random.Random, record: Any, names: list[str]) -> None:
    """One structural mutation inside ``record`` (in place; markers replaced later)."""
    parent, key = _walk(record, rng)
    if parent is None:
        names.append("rien")
        return
    op = rng.random()
    if op < 0.2:
        parent[key] = MARK + "deep"
        names.append("imbrication")
    elif op < 0.45 and isinstance(parent, dict):
        twin = rng.choice(("same", "other", "case"))
        value = parent[key] if twin != "other" else _wrong(rng)
        new_key = key.upper() if twin == "case" else key
        parent[MARK + "dup"] = [new_key, value]
        names.append(f"cle_en_double_{twin}")
    elif op < 0.7:
        parent[key] = _wrong(rng)
        names.append("mauvais_type")
    elif op < 0.85:
        text = parent[key] if isinstance(parent[key], str) else "texte"
        cut = rng.randrange(len(text) + 1)
        parent[key] = text[:cut] + MARK + rng.choice(("udc00", "ud800", "udfff")) + text[cut:]
        names.append("surrogate")
    else:
        if isinstance(parent, dict):
            del parent[key]
        else:
            parent.pop(key)
        names.append("valeur_supprimee")


def _plain_text(payload: Any) -> Any:
    """The payload with the surrogate markers as they will read (for the checksum)."""
    text = json.dumps(payload, ensure_ascii=False).replace(f'"{MARK}deep"', "[]")
    text = re.sub(MARK + r"(ud[0-9a-f]{3})", r"\\\1", text)
    return json.loads(text)


def _serialise(doc: Any, rng: random.Random) -> str:
    text = json.dumps(doc, ensure_ascii=False)
    while MARK + "dup" in text:
        start = text.index(f'"{MARK}dup": ')
        decoder = json.JSONDecoder()
        pair, end = decoder.raw_decode(text, start + len(f'"{MARK}dup": '))
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str):
            twin = json.dumps(pair[0]) + ": " + json.dumps(pair[1])
        else:  # a later mutation changed the marker itself: keep it as an ordinary key
            twin = json.dumps("cle") + ": " + json.dumps(pair)
        text = text[:start] + twin + text[end:]
    text = text.replace(f'"{MARK}deep"', _deep(rng))
    return re.sub(MARK + r"(ud[0-9a-f]{3})", r"\\\1", text)


def mutate_structured(base: StructuredBase, kind: str, seed: int, index: int
                      ) -> StructuredInput:
    """Input ``index`` of ``seed`` for a structured kind: always the same bytes."""
    import copy

    from grappes.scenarios.scenario_file import content_checksum

    rng = random.Random(f"{seed}-{index}-{kind}")
    names: list[str] = []
    touched: set[int] = set()
    if kind == "finess_plus":
        doc = copy.deepcopy(base.finess_plus)
        for _ in range(rng.randint(1, 3)):
            where = rng.random()
            pms = doc.get("pmej")
            if where < 0.85 and isinstance(pms, list) and pms:
                i = rng.randrange(len(pms))
                touched.add(i)
                _mutate_doc(rng, doc["pmej"][i], names)
            else:
                _mutate_doc(rng, doc, names)
                touched.update(range(len(base.finess_plus["pmej"])))
        text = _serialise(doc, rng)
    else:
        payload = json.loads(base.scenario)
        for _ in range(rng.randint(0, 3)):
            part = rng.choice(["grappes", "modifications", "esms", "depart", "non_places",
                               "reglages", "perimetre", None])
            _mutate_doc(rng, payload[part] if part and part in payload else payload, names)
        if (rng.random() < 0.3 or not names) and payload.get("grappes"):
            grappes = payload["grappes"]
            if isinstance(grappes, list) and len(grappes) >= 2 \
                    and isinstance(grappes[0], dict) and isinstance(grappes[0].get("esms"), list) \
                    and grappes[0]["esms"] and isinstance(grappes[1], dict) \
                    and isinstance(grappes[1].get("esms"), list):
                grappes[1]["esms"].append(grappes[0]["esms"][0])
                names.append("esms_dans_deux_grappes")
        if rng.random() < 0.5:
            try:
                payload["controle"] = content_checksum(_plain_text(payload))
                names.append("controle_recalcule")
            except (TypeError, ValueError):
                names.append("controle_impossible")
        text = _serialise(payload, rng)
    data = text.encode("utf-8", "surrogatepass")
    op = rng.random()
    if op < 0.08:
        data = data + (data if rng.random() < 0.5 else data[: rng.randrange(len(data))])
        names.append("concatenation")
        touched.update(range(10**6))
    elif op < 0.12:
        data = data[: rng.randrange(len(data))]
        names.append("tronque")
    elif op < 0.16:
        data = b"\xef\xbb\xbf" + data
        names.append("bom")
    if kind == "finess_plus" and rng.random() < 0.3:
        data = gzip.compress(data, mtime=0)
        names.append("gzip")
    return StructuredInput(index, kind, data, names, touched)


class StructuredBaseline:
    """What the unmutated structured inputs load to."""

    def __init__(self, base: StructuredBase, etab_result: Any) -> None:
        from grappes.ingest import load

        self.base = base
        self.result = etab_result  # the loaded slice a scenario is put back on
        raw = json.dumps(base.finess_plus, ensure_ascii=False).encode()
        loaded = load(raw)
        self.plus_rows = _by_key(loaded.etablissements)
        self.plus_shapes = {_DIGITS.sub("#", w) for w in loaded.warnings}
        self.pmej_of: dict[str, int] = {}
        for i, pm in enumerate(base.finess_plus["pmej"]):
            for e in pm.get("ege", []):
                self.pmej_of[e["informationsGeneralesEGE"]["numFinessEge"]] = i


COMPARED = ("finess_ej", "raison_sociale", "categorie", "commune", "departement", "champ",
            "lon", "lat")


def _by_key(table: Any) -> dict[str, tuple]:
    out = {}
    for row in table[["finess_et", *COMPARED]].itertuples(index=False):
        values = tuple(round(v, 6) if isinstance(v, float) else str(v) for v in row[1:])
        out[str(row[0])] = values
    return out


def run_structured(baseline: StructuredBaseline, m: StructuredInput) -> tuple[str, str]:
    """(outcome, detail) for one structured input."""
    if m.kind == "finess_plus":
        return _run_plus(baseline, m)
    return _run_scenario(baseline, m)


def _run_plus(baseline: StructuredBaseline, m: StructuredInput) -> tuple[str, str]:
    from grappes.exports.french_excel import csv_bytes
    from grappes.exports.rejects import rejets_frame
    from grappes.ingest import IngestError, load
    from grappes.ingest.check import summarise

    try:
        result = load(m.data)
    except IngestError as exc:
        return ("clean_refused", str(exc)[:200]) if str(exc).strip() else ("crash", "vide")
    summarise(result)
    csv_bytes(result.etablissements)
    csv_bytes(rejets_frame(result))
    meta = result.meta
    total = (meta["ege_charges"] + meta["ege_fermes"] + meta["ege_inactifs"]
             + meta["ege_og_fermes"] + meta["ege_rejetes"])
    if total != meta["ege_total"]:
        return "silent", f"comptage : {total} != {meta['ege_total']}"
    new_warnings = {_DIGITS.sub("#", w) for w in result.warnings} - baseline.plus_shapes
    rows = _by_key(result.etablissements)
    for key, values in baseline.plus_rows.items():
        if baseline.pmej_of.get(key) in m.touched_pmej:
            continue
        got = rows.get(key)
        if got is None:
            if any(key in (r.value or "") or key in r.reason for r in result.rejets):
                continue
            return "silent", f"{key} (pmej non modifié) absent sans rejet"
        if got != values and not new_warnings:
            return "silent", f"{key} modifié sans avertissement"
    return "clean_loaded", ""


def _run_scenario(baseline: StructuredBaseline, m: StructuredInput) -> tuple[str, str]:
    from grappes.exports.dossier import csv_files
    from grappes.scenarios.scenario_file import ScenarioFileError, load_scenario

    try:
        loaded = load_scenario(m.data, baseline.result)
    except ScenarioFileError as exc:
        return ("clean_refused", str(exc)[:200]) if str(exc).strip() else ("crash", "vide")
    scenario = loaded.scenario()
    json.dumps(scenario.to_json(), ensure_ascii=False, default=str)
    csv_files(scenario)
    payload = json.loads(m.data.decode("utf-8-sig", "surrogatepass"))
    notes = " ".join(loaded.notes)
    known = set(baseline.result.etablissements["finess_et"].astype(str))
    w = loaded.whatif
    excluded = set(w.constraints.excluded_esms)
    for g in payload.get("grappes", []):
        for e in g.get("esms", []) if isinstance(g, dict) else []:
            if not isinstance(e, str) or e not in known:
                continue
            if e not in w.assignment and e not in excluded and e not in notes:
                return "silent", f"ESMS {e} de la grappe {g.get('id')} perdu sans note"
    return "clean_loaded", ""
