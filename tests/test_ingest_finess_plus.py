"""The FINESS+ JSON flow reader: one test per trap of finess-plus.md, accounting, bad streams.

Every file is built in the test (small dicts written as JSON, gzip or not), except the
equivalence test, which writes the synthetic sample in both formats.
"""

from __future__ import annotations

import filecmp
import gzip
import io
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from grappes.geo.distances import haversine_km
from grappes.ingest import IngestError, load
from grappes.ingest.finess_plus import FinessPlusReader
from grappes.synthetic import luhn_key

# real communes of the bundled geography
ORLEANS = "45234"  # Loiret, Lambert-93
TOURS = "37261"
SAINT_DENIS_REUNION = "97411"  # UTM 40S
AJACCIO = "2A004"
# points inside those communes (WGS84)
ORLEANS_LONLAT = (1.9093, 47.9025)
SAINT_DENIS_LONLAT = (55.4481, -20.8823)


def finess(prefix: str, seq: int) -> str:
    body = f"{prefix}{seq:0{8 - len(prefix)}d}"
    return body + luhn_key(body)


def _l93(lon: float, lat: float) -> tuple[float, float]:
    from pyproj import Transformer

    return Transformer.from_crs(4326, 2154, always_xy=True).transform(lon, lat)


def _utm40s(lon: float, lat: float) -> tuple[float, float]:
    from pyproj import Transformer

    return Transformer.from_crs(4326, 2975, always_xy=True).transform(lon, lat)


def ege(
    number: str,
    *,
    categorie: Any = "500",
    commune: str = ORLEANS,
    coords: dict[str, Any] | None = None,
    adresses: list[dict[str, Any]] | None = None,
    closed: str = "",
    etat: Any = "A",
    ege_id: str = "",
    **extra: Any,
) -> dict[str, Any]:
    infos: dict[str, Any] = {
        "egeId": ege_id or number,
        "numFinessEge": number,
        "nomEgeCourt": f"EHPAD {number}",
        "nomEgeLong": f"EHPAD FICTIF {number}",
        "dateOuverture": "2000-01-01",
    }
    if closed:
        infos["dateFermeture"] = closed
    if adresses is None:
        address: dict[str, Any] = {"usageAdresse": "03", "cogCommune": commune}
        if coords is not None:
            address["coordonneesGeographique"] = coords
        adresses = [address]
    out = {
        "informationsGeneralesEGE": infos,
        "categorieentiteGeographiqueExercice": categorie,
        "modefixationtarifaire": "40",
        "adresse": adresses,
        "etatObjet": etat,
        "dateDerniereMaj": "2025-01-01 00:00:00",
    }
    out.update(extra)
    return out


def pmej(number: str, eges: list[dict[str, Any]], *, statut: Any = "60", pm_id: str = "",
         closed: str = "", etat: Any = "A") -> dict[str, Any]:  # fmt: skip
    infos = {
        "pmSmsseId": pm_id or number,
        "numFinessPm": number,
        "denominationPm": f"ASSO {number}",
        "denominationLonguePmSmsse": f"ASSOCIATION FICTIVE {number}",
        "statutJuridique": statut,
        "dateCreation": "1990-01-01",
    }
    if closed:
        infos["dateFermeture"] = closed
    return {"informationsGeneralesPMEJ": infos, "adresse": [], "ege": eges, "etatObjet": etat}


def flow(pms: list[dict[str, Any]], gcc: list | None = None, gco: list | None = None) -> dict:
    return {"schemaVersion": "1.0.0", "generatedAt": "2026-05-12T05:00:00Z",
            "gcc": gcc or [], "gco": gco or [], "pmej": pms}  # fmt: skip


def as_bytes(document: Any, *, gz: bool = True) -> bytes:
    raw = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return gzip.compress(raw, mtime=0) if gz else raw


def read(document: Any, **kwargs: Any):
    return load(as_bytes(document), **kwargs)


def one(result) -> pd.Series:
    assert len(result.etablissements) == 1, result.rejets
    return result.etablissements.iloc[0]


EJ = finess("45", 1)
ET = finess("45", 2)


# --------------------------------------------------------------------------- recognition


def test_gzip_and_plain_json_are_recognised_by_content(tmp_path: Path) -> None:
    document = flow([pmej(EJ, [ege(ET)])])
    for name, gz in (("x.csv", True), ("x.txt", False)):  # the name does not matter
        path = tmp_path / name
        path.write_bytes(as_bytes(document, gz=gz))
        result = load(path)
        assert result.kind == "finess_plus"
        assert one(result)["finess_et"] == ET
        assert result.meta["compresse"] is gz


def test_one_file_is_enough_og_name_and_status_from_pmej() -> None:
    row = one(read(flow([pmej(EJ, [ege(ET)], statut="61")])))
    assert row["finess_ej"] == EJ
    assert row["raison_sociale_ej"] == f"ASSOCIATION FICTIVE {EJ}"
    assert row["statut_juridique"] == "61"
    assert row["statut_agrege"] == "prive_non_lucratif"
    assert row["champ"] == "PA"


def test_stream_input_like_an_app_upload() -> None:
    upload = io.BytesIO(as_bytes(flow([pmej(EJ, [ege(ET)])])))
    upload.name = "finess-structures-journalier-20260512.json.gz"  # type: ignore[attr-defined]
    result = load(upload)
    assert result.meta["fichier"] == "finess-structures-journalier-20260512.json.gz"
    assert len(result.etablissements) == 1


# --------------------------------------------------------------------------- the nine traps


def test_trap1_keys_matched_case_insensitively() -> None:
    item = ege(ET)
    item["CATEGORIEENTITEGEOGRAPHIQUEEXERCICE"] = item.pop("categorieentiteGeographiqueExercice")
    item["informationsGeneralesEge"] = item.pop("informationsGeneralesEGE")  # schema casing
    pm = pmej(EJ, [item])
    pm["informationsGeneralesPmej"] = pm.pop("informationsGeneralesPMEJ")
    row = one(read(flow([pm])))
    assert (row["finess_et"], row["categorie"], row["statut_juridique"]) == (ET, "500", "60")


def test_trap2_coded_values_bare_or_object() -> None:
    system = "https://smt.esante.gouv.fr/fhir/CodeSystem/tre-r397"
    eges = [
        ege(ET, categorie={"code": "255", "system": system}, etat={"code": "A", "system": "x"}),
        ege(finess("45", 3), categorie="500"),
    ]
    statut = {"code": "21", "system": "https://smt.esante.gouv.fr/fhir/CodeSystem/tre-r400"}
    table = read(flow([pmej(EJ, eges, statut=statut)])).etablissements.set_index("finess_et")
    assert table.loc[ET, "categorie"] == "255"
    assert table.loc[ET, "champ"] == "PH"
    assert set(table["statut_juridique"]) == {"21"}
    assert len(table) == 2


def test_trap3_geographic_address_is_usage_03_not_the_first() -> None:
    lon, lat = ORLEANS_LONLAT
    coords = {"coordonneeX": f"{lon}", "coordonneeY": f"{lat}"}
    adresses = [
        {"usageAdresse": "06", "cogCommune": TOURS,
         "coordonneesGeographique": {"coordonneeX": "0.68", "coordonneeY": "47.39"}},
        {"usageAdresse": "03", "cogCommune": ORLEANS, "coordonneesGeographique": coords},
    ]  # fmt: skip
    row = one(read(flow([pmej(EJ, [ege(ET, adresses=adresses)])])))
    assert row["commune"] == ORLEANS
    assert abs(row["lon"] - lon) < 1e-6 and abs(row["lat"] - lat) < 1e-6


@pytest.mark.parametrize(
    "layout",
    ["projected_then_wgs84", "wgs84_then_projected", "projected_swapped", "lat_lon", "only_l93"],
)
def test_trap4_coordinate_pairs_in_either_order(layout: str) -> None:
    lon, lat = ORLEANS_LONLAT
    x, y = _l93(lon, lat)
    coords = {
        "projected_then_wgs84": {"coordonneeX": x, "coordonneeY": y,
                                 "directionLongitude": lon, "directionLatitude": lat},
        "wgs84_then_projected": {"coordonneeX": lon, "coordonneeY": lat,
                                 "directionLongitude": x, "directionLatitude": y},
        "projected_swapped": {"coordonneeX": y, "coordonneeY": x},
        "lat_lon": {"coordonneeX": lat, "coordonneeY": lon},
        "only_l93": {"directionLongitude": x, "directionLatitude": y},
    }[layout]  # fmt: skip
    coords = {k: f"{v:.6f}" for k, v in coords.items()}
    row = one(read(flow([pmej(EJ, [ege(ET, coords=coords)])])))
    assert row["coord_source"] == "fichier"
    assert haversine_km(row["lon"], row["lat"], lon, lat)[()] * 1000 < 1.0


def test_trap4_overseas_pair_read_in_the_territory_utm() -> None:
    lon, lat = SAINT_DENIS_LONLAT
    x, y = _utm40s(lon, lat)  # Y about 7.69 million: outside any Lambert-93 extent
    coords = {"coordonneeX": f"{x:.2f}", "coordonneeY": f"{y:.2f}"}
    row = one(read(flow([pmej(finess("9704", 1), [ege(finess("9704", 2),
                                                      commune=SAINT_DENIS_REUNION,
                                                      coords=coords)])])))  # fmt: skip
    assert row["departement"] == "974"
    assert haversine_km(row["lon"], row["lat"], lon, lat)[()] * 1000 < 1.0


def test_trap4_implausible_pairs_fall_back_to_the_commune_centre() -> None:
    coords = {"coordonneeX": "2.35", "coordonneeY": "48.85"}  # Paris, not Orléans
    result = read(flow([pmej(EJ, [ege(ET, coords=coords)])]))
    assert one(result)["coord_source"] == "centroide_commune"
    assert any("km de leur commune" in w for w in result.warnings)


def test_trap5_no_coordinates_gives_the_commune_centre_flagged() -> None:
    result = read(flow([pmej(EJ, [ege(ET, coords=None)])]))
    row = one(result)
    assert row["coord_source"] == "centroide_commune"
    assert any("coordonnées absentes" in w for w in result.warnings)


def test_trap5_commune_level_ban_key_is_flagged_as_commune_centre() -> None:
    lon, lat = ORLEANS_LONLAT
    commune_key = {"coordonneeX": f"{lon}", "coordonneeY": f"{lat}", "cleInInteropBAN": ORLEANS}
    address_key = dict(commune_key, cleInInteropBAN=f"{ORLEANS}_1234_00012")
    other = finess("45", 3)
    result = read(flow([pmej(EJ, [ege(ET, coords=commune_key), ege(other, coords=address_key)])]))
    table = result.etablissements.set_index("finess_et")
    assert table.loc[ET, "coord_source"] == "centroide_commune"
    assert table.loc[other, "coord_source"] == "fichier"
    assert any("clé BAN de niveau commune" in w for w in result.warnings)


def test_trap6_closed_and_inactive_counted_apart_not_errors() -> None:
    ets = [finess("45", i) for i in range(2, 7)]
    pms = [
        pmej(EJ, [ege(ets[0]), ege(ets[1], closed="2014-06-30"), ege(ets[2], etat="I"),
                  ege(ets[3], etat={"code": "I", "system": "x"})]),
        pmej(finess("45", 90), [ege(ets[4])], closed="2019-03-03"),
    ]  # fmt: skip
    result = read(flow(pms))
    assert list(result.etablissements["finess_et"]) == [ets[0]]
    assert result.rejets == []
    meta = result.meta
    assert (meta["ege_fermes"], meta["ege_inactifs"], meta["ege_og_fermes"]) == (1, 2, 1)
    assert any("mis de côté" in w for w in result.warnings)


def test_trap7_overseas_and_corsican_numbers_and_departements() -> None:
    pms = [
        pmej(finess("9704", 1), [ege(finess("9704", 2), commune=SAINT_DENIS_REUNION)]),
        pmej("2A0000019", [ege("2A0000027", commune=AJACCIO)]),
    ]
    table = read(flow(pms)).etablissements.set_index("finess_et")
    assert table.loc[finess("9704", 2), "departement"] == "974"
    assert bool(table.loc[finess("9704", 2), "derogatoire"])
    assert table.loc["2A0000027", "departement"] == "2A"
    assert table.loc["2A0000027", "finess_ej"] == "2A0000019"


def test_trap8_two_telephone_numbers_in_one_field_are_harmless() -> None:
    contact = [{"typeContact": {"roleContact": "01"},
                "telecom": {"telephone": "0690291988/0590895757"}}]  # fmt: skip
    result = read(flow([pmej(EJ, [ege(ET, contact=contact)])]))
    assert one(result)["finess_et"] == ET
    assert result.rejets == []


def test_trap9_decimal_comma_is_reported_as_format_drift_and_still_read() -> None:
    lon, lat = ORLEANS_LONLAT
    coords = {"coordonneeX": f"{lon}".replace(".", ","), "coordonneeY": f"{lat}".replace(".", ",")}
    result = read(flow([pmej(EJ, [ege(ET, coords=coords)])]))
    row = one(result)
    assert row["coord_source"] == "fichier"
    assert abs(row["lon"] - lon) < 1e-9
    drift = [w for w in result.warnings if "Dérive de format" in w]
    assert drift and "pmej[0].ege[0].coordonneex" in drift[0]


# --------------------------------------------------------------------------- accounting


def test_every_ege_is_loaded_set_aside_or_rejected_with_its_path() -> None:
    good = [finess("45", i) for i in range(10, 14)]
    bad_key = good[0][:-1] + str((int(good[0][-1]) + 1) % 10)
    pms = [
        pmej(EJ, [ege(good[0]), ege(bad_key), ege(good[1], categorie="5X0")]),
        pmej(finess("45", 91), [ege(good[2], closed="2010-01-01"), "pas un objet",
                                {"etatObjet": "A"}, ege(good[3], commune="")]),
        pmej(finess("45", 92), [ege(good[0])]),  # duplicate FINESS ET
    ]  # fmt: skip
    result = read(flow(pms))
    meta = result.meta
    assert meta["ege_total"] == 8
    assert meta["ege_charges"] == 1
    assert meta["ege_fermes"] == 1
    assert meta["ege_rejetes"] == 6
    assert meta["ege_charges"] + meta["ege_fermes"] + meta["ege_rejetes"] == meta["ege_total"]
    by_path = {r.path: r for r in result.rejets}
    assert by_path["pmej[0].ege[1]"].field == "numFinessEge"
    assert "clé" in by_path["pmej[0].ege[1]"].reason
    assert by_path["pmej[0].ege[2]"].field == "categorieEntiteGeographiqueExercice"
    assert by_path["pmej[1].ege[1]"].field == "ege"
    assert by_path["pmej[1].ege[2]"].field == "informationsGeneralesEGE"
    assert by_path["pmej[1].ege[3]"].field == "adresse.cogCommune"
    assert "doublon" in by_path["pmej[2].ege[0]"].reason


# --------------------------------------------------------------------------- malformed streams


def _sample_bytes(n: int = 3000) -> bytes:
    """A flow large enough that the parser reads it in several chunks (about 1.5 MB)."""
    pms = [pmej(finess("45", 10_000 + i), [ege(finess("45", 50_000 + i))]) for i in range(n)]
    return json.dumps(flow(pms)).encode()


def test_truncated_gzip_names_where_it_broke_and_loads_nothing() -> None:
    data = gzip.compress(_sample_bytes(), mtime=0)
    with pytest.raises(IngestError) as err:
        load(data[: len(data) * 2 // 3])
    message = str(err.value)
    assert "gzip tronqué" in message or "fin de fichier" in message
    assert "pmej[" in message and "Rien n'a été chargé" in message


def test_truncated_json_names_where_it_broke() -> None:
    raw = _sample_bytes()
    cut = raw.index(b'"pmej"') + (len(raw) - raw.index(b'"pmej"')) // 2
    with pytest.raises(IngestError, match=r"illisible pendant pmej\[\d+\]"):
        load(gzip.compress(raw[:cut], mtime=0))
    with pytest.raises(IngestError, match=r"pmej\[\d+\]"):
        load(raw[:cut])


def test_corrupt_gzip_is_a_clear_message() -> None:
    data = bytearray(gzip.compress(_sample_bytes(), mtime=0))
    middle = len(data) // 2
    data[middle : middle + 60] = b"\x00" * 60
    with pytest.raises(IngestError, match=r"illisible pendant pmej\[\d+\].*octet"):
        load(bytes(data))


def _stdlib_gzip_error(data: bytes) -> str:
    """The English detail the standard ``gzip`` module gives for a corrupt stream."""
    try:
        gzip.GzipFile(fileobj=io.BytesIO(data)).read()
    except (gzip.BadGzipFile, zlib.error) as exc:
        return str(exc)
    raise AssertionError("the stream is not corrupt")


def test_corrupt_gzip_details_are_worded_as_the_standard_gzip() -> None:
    """zlib-ng inflates the flow (issue 21 item 6): a failed CRC check and a broken deflate
    stream are told with the same words as before, a CRC in hexadecimal."""
    data = gzip.compress(_sample_bytes(200), mtime=0)
    bad_crc = data[:-8] + bytes(4) + data[-4:]
    assert "CRC check failed 0x0 != 0x" in _stdlib_gzip_error(bad_crc)
    # a byte of the deflate stream flipped, where zlib says why (not only a CRC mismatch)
    broken = next(
        flipped
        for k in range(20, len(data) - 8)
        if "while decompressing" in _error_or_empty(flipped := _flip(data, k))
    )
    for corrupt in (bad_crc, broken):
        with pytest.raises(IngestError) as err:
            load(corrupt)
        message = str(err.value)
        assert f"fichier compressé gzip corrompu ({_stdlib_gzip_error(corrupt)})" in message
        assert "Rien n'a été chargé" in message


def test_a_few_stray_bytes_after_the_gzip_member_are_still_corrupt() -> None:
    """zlib-ng reads fewer than ten stray bytes after the member as a truncated member; the
    reader asks the standard gzip again, which calls the file corrupt (a path or bytes), and
    says truncated only when the stream cannot be read twice."""
    data = gzip.compress(_sample_bytes(200), mtime=0) + b"ga!"
    expected = f"fichier compressé gzip corrompu ({_stdlib_gzip_error(data)})"
    assert "Not a gzipped file" in expected
    with pytest.raises(IngestError) as err:
        load(data)
    assert expected in str(err.value)

    class Stream(io.RawIOBase):  # an upload that can only be read once
        def __init__(self, payload: bytes) -> None:
            self.inner = io.BytesIO(payload)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            return self.inner.readinto(buffer)

    with pytest.raises(IngestError, match="gzip tronqué"):
        FinessPlusReader().read_source(io.BufferedReader(Stream(data)))


def _flip(data: bytes, k: int) -> bytes:
    return data[:k] + bytes([data[k] ^ 0x55]) + data[k + 1 :]


def _error_or_empty(data: bytes) -> str:
    try:
        gzip.GzipFile(fileobj=io.BytesIO(data)).read()
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        return str(exc)
    return ""


def test_gzip_members_and_zero_padding_read_as_one_stream() -> None:
    """Several gzip members and trailing zeros (allowed by gzip) give the same table."""
    raw = _sample_bytes(200)
    whole = load(gzip.compress(raw, mtime=0))
    cut = len(raw) // 3
    split = gzip.compress(raw[:cut], mtime=0) + gzip.compress(raw[cut:], mtime=0) + bytes(64)
    again = load(split)
    pd.testing.assert_frame_equal(again.etablissements, whole.etablissements)
    assert again.meta["octets_json"] == whole.meta["octets_json"] == len(raw)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([{"pmej": []}], "commence par un tableau"),
        ({"schemaVersion": "1.0.0", "data": []}, "sans tableau « pmej »"),
        ({"pmej": {"ege": []}}, "un tableau"),
        ('"texte"', "valeur isolée"),
    ],
)
def test_wrong_top_level_shape(document: Any, expected: str) -> None:
    raw = document.encode() if isinstance(document, str) else json.dumps(document).encode()
    with pytest.raises(IngestError, match=expected):
        load(gzip.compress(raw, mtime=0))


def test_gzip_that_is_not_json_is_refused_clearly() -> None:
    with pytest.raises(IngestError, match="gzip qui ne contient pas de JSON"):
        load(gzip.compress(b"finess;etalab;111;2026-05-12\n", mtime=0))


# --------------------------------------------------------------------------- size limits


def test_compressed_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "f.json.gz"
    path.write_bytes(gzip.compress(_sample_bytes(), mtime=0))
    with pytest.raises(IngestError, match="compressé trop volumineux"):
        load(path, max_bytes=100)


def test_decompressed_size_limit_stops_a_gzip_bomb() -> None:
    padding = b" " * 5_000_000  # compresses to a few KB
    bomb = gzip.compress(b'{"pad":"x"' + padding + b',"pmej":[]}', mtime=0)
    assert len(bomb) < 50_000
    with pytest.raises(IngestError, match="une fois décompressé"):
        FinessPlusReader().read_source(bomb, max_json_bytes=1_000_000)


def test_csv_limit_does_not_refuse_a_large_json_flow() -> None:
    """The compressed-size limit applies to the .gz; the JSON text has its own, larger limit."""
    data = gzip.compress(_sample_bytes(), mtime=0)
    raw_size = len(_sample_bytes())
    result = FinessPlusReader().read_source(data, max_bytes=len(data) + 1)
    assert result.meta["octets_json"] == raw_size > len(data)


# --------------------------------------------------------------------------- groups


def test_groups_become_known_links_used_by_propose() -> None:
    from grappes.solver.propose import with_file_links

    ejs = [finess("45", 200 + i) for i in range(4)]
    pms = [pmej(ej, [ege(finess("45", 300 + i), ege_id=f"e{i}")], pm_id=f"p{i}")
           for i, ej in enumerate(ejs)]  # fmt: skip
    gcc = [{"gccId": "1", "nomGcc": "G", "typeGcc": "001", "etatObjet": "A",
            "pmejDuGcc": [{"pmSmsseId": "p0"}, {"pmSmsseId": "p1"}, {"pmSmsseId": "zz"}]},
           {"gccId": "2", "nomGcc": "old", "etatObjet": "I",
            "pmejDuGcc": [{"pmSmsseId": "p2"}, {"pmSmsseId": "p3"}]}]  # fmt: skip
    gco = [{"pmSmsseId": "p2", "typeGco": "003", "egeDuGco": [{"egeId": "e3"}]}]
    result = read(flow(pms, gcc=gcc, gco=gco))
    pairs = set(zip(result.liens["finess_ej_a"], result.liens["finess_ej_b"], strict=True))
    assert pairs == {(ejs[0], ejs[1]), (ejs[2], ejs[3])}
    assert any("partenariat(s) connu(s)" in w for w in result.warnings)
    assert any("identifiant absent" in w for w in result.warnings)
    user = pd.DataFrame({"finess_ej_a": [ejs[0]], "finess_ej_b": [ejs[3]]}, dtype="string")
    merged, note = with_file_links(user, result)
    assert len(merged) == 3 and "gcc/gco" in note


# --------------------------------------------------------------------------- sample


def test_sample_in_both_formats_loads_into_the_same_table(tmp_path: Path) -> None:
    from grappes.synthetic import write_etalab
    from grappes.synthetic.sample import generate_sample
    from grappes.synthetic.write_finess_plus import write_finess_plus

    data = generate_sample()
    et, ej, _ = write_etalab(data, tmp_path)
    plus = write_finess_plus(data, tmp_path / "finess-structures-journalier-20260512.json.gz")
    a = load(et, ej=ej).etablissements.set_index("finess_et").sort_index()
    b = load(plus).etablissements.set_index("finess_et").sort_index()
    assert list(a.index) == list(b.index)
    for col in ("finess_ej", "raison_sociale_ej", "categorie", "champ", "medicalise",
                "statut_juridique", "commune", "departement", "region", "og_nb_esms"):  # fmt: skip
        assert (a[col] == b[col]).all(), col
    metres = haversine_km(a["lon"].to_numpy(), a["lat"].to_numpy(),
                          b["lon"].to_numpy(), b["lat"].to_numpy()) * 1000  # fmt: skip
    assert float(np.max(metres)) < 1.0


def test_committed_finess_plus_sample_is_up_to_date(tmp_path: Path) -> None:
    from grappes.core.paths import sample_dir
    from grappes.ingest.sample import SAMPLE_FINESS_PLUS
    from grappes.synthetic.sample import build_sample

    build_sample(tmp_path)
    assert filecmp.cmp(tmp_path / SAMPLE_FINESS_PLUS, sample_dir() / SAMPLE_FINESS_PLUS,
                       shallow=False), "run python data/build/make_sample.py"  # fmt: skip


def test_grappes_sample_copies_the_finess_plus_file(tmp_path: Path) -> None:
    from grappes.cli.sample import copy_sample
    from grappes.ingest.sample import SAMPLE_FINESS_PLUS

    copies = copy_sample(tmp_path)
    assert tmp_path / SAMPLE_FINESS_PLUS in copies
    assert load(tmp_path / SAMPLE_FINESS_PLUS).kind == "finess_plus"


def test_check_and_propose_commands_on_a_finess_plus_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from grappes.cli.main import app
    from grappes.ingest.sample import finess_plus_sample_path

    runner = CliRunner()
    path = finess_plus_sample_path()
    checked = runner.invoke(app, ["verifier", str(path), "--json"])
    assert checked.exit_code == 0, checked.output
    summary = json.loads(checked.stdout)
    assert summary["kind"] == "finess_plus" and summary["usable"]
    assert summary["by_statut"]["inconnu"]["og"] == 0  # statuses from pmej, no --ej
    proposed = runner.invoke(
        app, ["proposer", str(path), "--champ", "PA", "--limite-temps", "1", "--json"]
    )
    assert proposed.exit_code == 0, proposed.output
    report = json.loads(proposed.stdout)
    assert report["stats"]["liens_fichier"] > 0
    assert any("gcc/gco" in w for w in report["stats"]["warnings"])


def test_surrogate_hint_agrees_with_a_search_of_the_whole_chunk() -> None:
    """The hint tries each backslash (then searches the rest past 256 of them): the same
    answer as a search of the whole chunk, however many backslashes come first."""
    import random

    from grappes.ingest import finess_plus

    rng = random.Random(5)
    for _ in range(300):
        n = rng.choice([5, 50, 400])
        pieces = [rng.choice(["\\", "u", "d", "D", "8", "c", "x", "\\u00e9"]) for _ in range(n)]
        data = "".join(pieces).encode()
        expected = finess_plus._SURROGATE_HINT.search(data) is not None
        assert finess_plus._surrogate_hint(data) is expected
    escaped = b"\\u00e9" * (finess_plus._WALKED + 50)  # past the backslashes tried one by one
    assert finess_plus._surrogate_hint(escaped + b"\\udc00")
    assert not finess_plus._surrogate_hint(escaped + b"\\u00e9")
