"""Issue 21, item 6: the fast path of the FINESS+ reader (runs of ``pmej`` decoded by msgspec).

The fast path must give exactly what the exact reader gives, and hand over to it every run
holding something only the exact reader judges (a key given twice, another case, a wrong
type...). Files are built in the test, or are the committed sample flow.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_ingest_finess_plus import EJ, ege, finess, flow, pmej

from grappes.ingest import finess_plus, finess_plus_schema, json_chunks, load
from grappes.ingest.finess_plus import KEYS
from grappes.ingest.finess_plus_schema import Pmej, decode_run
from grappes.ingest.json_chunks import DepthScan


def _runs(monkeypatch) -> dict[str, int]:
    """Count the runs the fast path accepts and refuses during the test."""
    counts = {"acceptés": 0, "refusés": 0}
    original = finess_plus.decode_run

    def counted(
        text: str, keys: frozenset[str], scratch: bytearray | None = None
    ) -> list[Pmej] | None:
        items = original(text, keys, scratch)
        counts["acceptés" if items is not None else "refusés"] += 1
        return items

    monkeypatch.setattr(finess_plus, "decode_run", counted)
    return counts


def test_fast_and_exact_paths_give_the_same_result_on_the_sample(monkeypatch) -> None:
    """The committed sample flow read by the fast path, then with every run refused (the
    exact reader alone): the same table, rejects, warnings and counts."""
    from grappes.core.paths import sample_dir
    from grappes.ingest.sample import SAMPLE_FINESS_PLUS

    path = sample_dir() / SAMPLE_FINESS_PLUS
    counts = _runs(monkeypatch)
    fast = load(path)
    assert counts["acceptés"] >= 1 and counts["refusés"] == 0
    monkeypatch.setattr(finess_plus, "decode_run", lambda text, keys, scratch=None: None)
    exact = load(path)
    assert fast.etablissements.equals(exact.etablissements)
    assert fast.rejets == exact.rejets
    assert fast.warnings == exact.warnings
    assert fast.meta == exact.meta
    assert len(fast.etablissements) > 1000


def _pm_text(**changes: Any) -> str:
    """One ``pmej`` of two establishments as compact JSON, with ``@@k@@`` markers replaced."""
    first, second = ege(finess("45", 100)), ege(finess("45", 101))
    first["informationsGeneralesEGE"]["nomEgeLong"] = "@@nom@@"
    first["evenement"] = "@@evenement@@"
    pm = pmej(EJ, [first, second])
    pm["contact"] = "@@contact@@"
    text = json.dumps(pm, ensure_ascii=False, separators=(",", ":"))
    defaults = {"nom": '"EHPAD"', "evenement": "[]", "contact": "[]"}
    for name, value in {**defaults, **changes}.items():
        text = text.replace(f'"@@{name}@@"', value)
    return text


def test_a_plain_run_is_decoded_into_the_typed_structures() -> None:
    items = decode_run(_pm_text() + "," + _pm_text(), KEYS)
    assert items is not None and len(items) == 2
    assert items[0].ege is not None
    assert items[0].ege[0].informationsGeneralesEGE.numFinessEge == finess("45", 100)


@pytest.mark.parametrize(
    "text",
    [
        # blanks anywhere (a pretty-printed file): colons are counted, not « ": »
        json.dumps(json.loads(_pm_text()), indent=2),
        # a text holding a colon and escaped quotes
        _pm_text(nom=json.dumps('LE "NID" : EHPAD')),
        # free content in evenement without any clash
        _pm_text(evenement='[{"code":"01","date":"2020-01-01T00:00:00"}]'),
    ],
    ids=["indente", "deux-points-dans-un-texte", "evenement-libre"],
)
def test_runs_the_fast_path_keeps(text: str) -> None:
    items = decode_run(text, KEYS)
    assert items is not None and len(items) == 1


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (_pm_text().replace('"ege":[', '"ege":[],"ege":[', 1), "liste ege donnée deux fois"),
        (
            _pm_text().replace('"numFinessEge":', '"numFinessEge":"450000001","numFinessEge":', 1),
            "numéro donné deux fois",
        ),
        (
            _pm_text().replace('"numFinessEge":', '"numFinessEge" : "450000001" , "numFinessEge":'),
            "numéro donné deux fois, blancs avant le deux-points",
        ),
        (
            _pm_text().replace(
                '"etatObjet":"A","contact"', '"etatObjet":"A","etatObjet":"A","contact"'
            ),
            "même valeur donnée deux fois (le lecteur exact l'accepte)",
        ),
        (_pm_text().replace('"ege":[', '"EGE":[', 1), "clé dans une autre casse"),
        (_pm_text().replace('"adresse":[]', '"adresse":[],"champFutur":1', 1), "clé inconnue"),
        (_pm_text(nom="[1, 2]"), "mauvais type"),
        (
            _pm_text().replace('"dateOuverture":"2000-01-01"', '"dateOuverture":' + "1" * 6000, 1),
            "entier démesuré dans un champ non lu",
        ),
        (_pm_text(nom='"A\\u003aB"'), "deux-points échappé"),
        (_pm_text(nom='"' + '\\"' * 70 + '\\u003a"'), "deux-points échappé après 70 guillemets"),
        (_pm_text(evenement='[{"Code":"1","code":"2"}]'), "evenement : deux clés par la casse"),
        (_pm_text(evenement='[{"EGE":[]}]'), "evenement : clé du flux dans une autre casse"),
        (_pm_text(evenement='[{"a":1,"a":2}]'), "evenement : clé donnée deux fois"),
        (_pm_text(contact='[{"telecom":{"telephone":"1","telephone":"2"}}]'), "contact"),
        (_pm_text() + ",12", "élément qui n'est pas un objet"),
        (_pm_text() + "],[" + _pm_text(), "fin du tableau dans le morceau"),
        (_pm_text(nom="NaN"), "NaN (accepté par json, pas par msgspec)"),
    ],
)
def test_runs_the_fast_path_hands_to_the_exact_reader(text: str, why: str) -> None:
    assert text != _pm_text(), why
    assert decode_run(text, KEYS) is None, why


def _reference_ends(data: bytes, level: int) -> list[int]:
    """Offsets just past each bracket closing back to ``level`` (a plain JSON walk)."""
    ends, depth, in_string, i = [], 0, False, 0
    while i < len(data):
        c = data[i]
        if in_string:
            if c == 0x5C:
                i += 1
            elif c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in b"[{":
            depth += 1
        elif c in b"]}":
            depth -= 1
            if depth == level:
                ends.append(i + 1)
        i += 1
    return ends


@pytest.mark.parametrize("tail", [7, 64, 1 << 16])
def test_depth_scan_finds_the_last_record_end_in_any_chunking(monkeypatch, tail: int) -> None:
    """Records holding brackets, quotes and backslashes inside texts, cut anywhere: the
    last record end of each chunk is the one a plain walk finds (whatever the tail size
    searched first)."""
    monkeypatch.setattr(json_chunks, "_TAIL_BYTES", tail)
    names = ["A [B] {C}", 'D \\"E\\" [', "F \\\\", 'G \\\\\\" ]}', "H"]
    pms = [
        f'{{"n":"{names[i % len(names)]}","ege":[{{"x":[{i}]}},{{"y":"]"}}]}}' for i in range(40)
    ]
    data = ('{"gcc":[],"pmej":[' + ",".join(pms) + "]}").encode()
    json.loads(data)  # valid JSON
    expected = _reference_ends(data, 2)
    rng = random.Random(tail)
    scan = DepthScan(limit=66, record_level=2)
    start = 0
    while start < len(data):
        size = rng.randint(1, 300)
        chunk = data[start : start + size]
        scan.feed(chunk)
        held = len(scan.carry)  # trailing backslashes wait for the next chunk
        inside = [e - start for e in expected if start < e <= start + len(chunk) - held]
        assert scan.last_end == (inside[-1] if inside else -1), (start, size)
        start += size


def test_a_key_twice_in_one_pmej_among_fast_runs_is_rejected_by_its_path(monkeypatch) -> None:
    """Twelve entities read in small chunks: the runs around the entity whose ``ege`` list
    is given twice take the fast path, that entity is read by the exact reader and all its
    establishments (of both lists) are rejected with their paths; the others load."""
    monkeypatch.setattr(json_chunks, "CHUNK_BYTES", 2000)
    counts = _runs(monkeypatch)
    pms = [pmej(finess("45", 900 + i), [ege(finess("45", 100 + 2 * i))]) for i in range(12)]
    pms[6]["ege"] = "@@twice@@"
    twice = f'[{json.dumps(ege(finess("45", 500)))}],"ege":[{json.dumps(ege(finess("45", 501)))}]'
    text = json.dumps(flow(pms)).replace('"@@twice@@"', twice)
    result = load(text.encode())
    assert counts["acceptés"] >= 2 and counts["refusés"] >= 1
    assert len(result.etablissements) == 11
    bad = sorted(r.path for r in result.rejets)
    assert bad == ["pmej[6].ege[0]", "pmej[6].ege[1]"]
    assert all("deux fois" in r.reason for r in result.rejets)
    assert result.meta["ege_total"] == 13


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ('"a:b"', False),
        ('"a\\u003ab"', True),
        ('"a\\u0039b"', True),  # any \u003. (a digit): refused as before, harmless
        ('"a\\\\u003ab"', False),  # an escaped backslash, then the text u003a
        ('"' + '\\"' * 10 + '\\u003a"', True),
        ('"' + '\\"' * 100 + '\\u003a"', True),  # past the walked backslashes
        ('"' + '\\"' * 100 + '"', False),
        ('"\\u00e9\\n"', False),
    ],
)
def test_an_escaped_colon_is_found_among_other_escapes(text: str, escaped: bool) -> None:
    assert finess_plus_schema._escaped_colon(text) is escaped
