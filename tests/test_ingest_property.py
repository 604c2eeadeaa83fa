"""Property tests: the readers never crash, and every input line is loaded or rejected."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grappes.core.model import ETAB_COLUMNS, LoadResult
from grappes.ingest import IngestError, load
from grappes.ingest.base import decode

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
import builders as b

# modest example counts: each load takes about 0.1 s and the machine is shared
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid_etalab() -> str:
    ej1, ej2 = b.finess("45000100"), b.finess("37000200")
    places = [b.ORLEANS, b.TOURS, b.BOURGES, b.AJACCIO, b.SAINT_DENIS_REUNION]
    f = b.EtalabFile()
    for i, (_, dep, com, lon, lat) in enumerate(places * 2):
        prefix = {"9D": "9704"}.get(dep, dep)
        number = (
            prefix + str(i).zfill(6) + "5"
            if prefix in ("2A", "2B")
            else b.finess(prefix + str(i).zfill(8 - len(prefix)))
        )
        cat = ["500", "183", "355", "999", "354"][i % 5]
        et = b.Et(number, ej1 if i % 2 else ej2, cat, dep, com, nom=f'NOM "{i}" FICTIF')
        f.ets.append(et)
        if i % 3:
            epsg = 2975 if dep == "9D" else 2154
            f.geo.append(b.geoloc_line(number, lon, lat, epsg, "old" if i % 4 == 0 else "current"))
    return f.text()


def _valid_template() -> str:
    rows = []
    for i, (code, _, _, lon, lat) in enumerate([b.ORLEANS, b.TOURS, b.BOURGES] * 2):
        rows.append(
            {
                "finess_et": b.finess("45" + str(i).zfill(6)),
                "finess_ej": b.finess("45" + str(100 + i % 2).zfill(6)),
                "categorie": ["500", "183", "355"][i % 3],
                "commune": code,
                "lon": str(lon).replace(".", ","),
                "lat": str(lat).replace(".", ","),
                "dui_statut": "conforme",
                "deja_finance": "non",
            }
        )
    cols = [
        "finess_et",
        "finess_ej",
        "categorie",
        "commune",
        "lon",
        "lat",
        "dui_statut",
        "deja_finance",
    ]
    return b.template(rows, cols)


VALID_ETALAB = _valid_etalab()
VALID_TEMPLATE = _valid_template()


def _check_result(result: LoadResult, data: bytes) -> None:
    """Every non-blank line that is not metadata, header or continuation is accounted for."""
    table = result.etablissements
    assert list(table.columns) == list(ETAB_COLUMNS)
    for col, (dtype, _) in ETAB_COLUMNS.items():
        assert str(table[col].dtype) == dtype, col
    text, _ = decode(data)
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    content = {
        i + 1 for i, line in enumerate(lines) if line.replace(";", "").replace(",", "").strip()
    }
    meta = result.meta
    skipped = set(meta.get("lignes_continuation", []))
    for key in ("ligne_meta", "ligne_entete"):
        if key in meta:
            skipped.add(int(meta[key]))
    loaded = set(table["ligne"].tolist())
    used_geo = set(meta.get("lignes_geolocalisation_utilisees", []))
    rejected = [r.line for r in result.rejets if r.source == ""]
    assert len(rejected) == len(set(rejected)), "a line rejected twice"
    assert not loaded & set(rejected)
    assert not used_geo & set(rejected)
    accounted = loaded | used_geo | set(rejected) | skipped
    missing = content - accounted
    # a line that only holds separators and spaces is blank for the template reader too
    assert not missing, f"lines neither loaded nor rejected: {sorted(missing)[:10]}"
    assert len(table) == table["finess_et"].nunique()


def _load_or_error(data: bytes) -> LoadResult | None:
    try:
        return load(data)
    except IngestError as exc:
        assert str(exc)
        return None


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    result = _load_or_error(data)
    if result is not None:
        _check_result(result, data)


@FEW
@given(st.binary(max_size=400))
def test_arbitrary_bytes_after_a_valid_start_never_crash(data: bytes) -> None:
    for start in (VALID_ETALAB[:300].encode(), VALID_TEMPLATE[:120].encode()):
        result = _load_or_error(start + data)
        if result is not None:
            _check_result(result, start + data)


@FEW
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_arbitrary_side_files_never_crash(ej: bytes, dui: bytes) -> None:
    ej_start = (
        "finess;etalab;96;2026-03-11\n" + b.ej_line(b.finess("45000100"), "A", "60") + "\n"
    ).encode()
    dui_start = ("finess_et;dui_statut;deja_finance\r\n" + b.finess("45000000")).encode()
    main = VALID_ETALAB.encode()
    for kwargs in ({"ej": ej}, {"dui": dui}, {"ej": ej_start + ej}, {"dui": dui_start + dui}):
        try:
            result = load(main, **kwargs)
        except IngestError:
            continue
        _check_result(result, main)
        side = "ej" if "ej" in kwargs else "dui"
        assert all(r.source in ("", side) for r in result.rejets)


_EDIT = st.tuples(
    st.sampled_from(["drop", "duplicate", "truncate", "insert", "swap"]),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
    st.text(
        alphabet=st.sampled_from(list(';"\n\r,\t xé9A-')) | st.characters(), min_size=1, max_size=5
    ),
)


def _mangle(text: str, edits: list[tuple[str, int, int, str]]) -> str:
    lines = text.split("\n")
    for kind, a, c, chars in edits:
        if not lines:
            break
        i = a % len(lines)
        if kind == "drop":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "truncate":
            lines[i] = lines[i][: c % (len(lines[i]) + 1)]
        elif kind == "insert":
            pos = c % (len(lines[i]) + 1)
            lines[i] = lines[i][:pos] + chars + lines[i][pos:]
        else:
            j = c % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


@SETTINGS
@given(st.lists(_EDIT, min_size=1, max_size=8), st.sampled_from(["utf-8", "latin-1"]))
def test_mangled_etalab_files(edits: list, encoding: str) -> None:
    data = _mangle(VALID_ETALAB, edits).encode(encoding, errors="replace")
    result = _load_or_error(data)
    if result is not None:
        _check_result(result, data)


@SETTINGS
@given(st.lists(_EDIT, min_size=1, max_size=8))
def test_mangled_templates(edits: list) -> None:
    data = _mangle(VALID_TEMPLATE, edits).encode("utf-8", errors="replace")
    result = _load_or_error(data)
    if result is not None:
        _check_result(result, data)


def test_the_unmangled_files_load_cleanly() -> None:
    etalab = load(VALID_ETALAB.encode())
    assert len(etalab.etablissements) == 10
    assert not etalab.rejets
    _check_result(etalab, VALID_ETALAB.encode())
    template = load(VALID_TEMPLATE.encode())
    assert len(template.etablissements) == 6 and not template.rejets
    _check_result(template, VALID_TEMPLATE.encode())
