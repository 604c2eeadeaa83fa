"""Issue 21: the FINESS+ reader under attack. Every file is built in the test.

A value nested 10,000 levels deep, a key given twice (whatever its case), a lone surrogate,
a wrong type: the record that holds it is rejected with its path and a French reason, the
others are loaded, and nothing is dropped without a word.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_ingest_finess_plus import EJ, ege, finess, flow, pmej

from grappes.core.formatting import preview
from grappes.core.structure import MAX_DEPTH, too_deep
from grappes.ingest import IngestError, load

DEEP = "[" * 10_000 + "]" * 10_000
MARK = '"@@MARK@@"'


def _four() -> list[str]:
    return [finess("45", 100 + i) for i in range(4)]


def _with(text_of_doc: str, replacement: str) -> bytes:
    assert MARK in text_of_doc
    return text_of_doc.replace(MARK, replacement, 1).encode("utf-8")


def _accounted(result) -> None:
    meta = result.meta
    assert meta["ege_charges"] + meta["ege_fermes"] + meta["ege_inactifs"] \
        + meta["ege_og_fermes"] + meta["ege_rejetes"] == meta["ege_total"]


def _doc_with_mark(where: str) -> str:
    """Two OGs of two establishments; ``where`` names the field replaced by the mark."""
    ets = _four()
    first = [ege(ets[0]), ege(ets[1])]
    second_pm: dict[str, Any] = pmej(finess("45", 901), [ege(ets[2]), ege(ets[3])])
    target = first[1]
    if where == "numFinessEge":
        target["informationsGeneralesEGE"]["numFinessEge"] = "@@MARK@@"
    elif where == "nomEgeLong":
        target["informationsGeneralesEGE"]["nomEgeLong"] = "@@MARK@@"
    elif where == "dateFermeture":
        target["informationsGeneralesEGE"]["dateFermeture"] = "@@MARK@@"
    elif where == "ege item":
        first[1] = "@@MARK@@"  # type: ignore[call-overload]
    pms: list[Any] = [pmej(EJ, first), second_pm]
    if where == "pmej item":
        pms.append("@@MARK@@")
    return json.dumps(flow(pms), ensure_ascii=False)


@pytest.mark.parametrize("where", ["numFinessEge", "nomEgeLong", "dateFermeture", "ege item"])
def test_value_nested_10000_levels_rejects_only_its_ege(where: str) -> None:
    result = load(_with(_doc_with_mark(where), DEEP))
    assert len(result.etablissements) == 3
    (bad,) = [r for r in result.rejets if r.path == "pmej[0].ege[1]"]
    assert f"plus de {MAX_DEPTH} niveaux" in bad.reason
    assert "pmej[0].ege[1]" in bad.reason
    _accounted(result)


def test_pmej_item_nested_10000_levels_is_rejected_the_others_loaded() -> None:
    result = load(_with(_doc_with_mark("pmej item"), DEEP))
    assert len(result.etablissements) == 4
    (bad,) = [r for r in result.rejets if r.path == "pmej[2]"]
    assert "niveaux" in bad.reason
    _accounted(result)


def test_deep_group_is_ignored_with_its_path() -> None:
    doc = json.dumps(flow([pmej(EJ, [ege(_four()[0])])], gcc=["@@MARK@@"]))
    result = load(_with(doc, DEEP))
    assert len(result.etablissements) == 1
    assert any(r.path == "gcc[0]" and "niveaux" in r.reason for r in result.rejets)


@pytest.mark.parametrize("second", ["ege", "EGE"])
def test_ege_list_given_twice_rejects_the_entity_with_every_establishment(second: str) -> None:
    ets = _four()
    pm = pmej(EJ, [ege(ets[0])])
    text = json.dumps(flow([pm, pmej(finess("45", 901), [ege(ets[3])])]))
    one_ege = json.dumps([ege(ets[1]), ege(ets[2])])
    text = text.replace('"ege": [', f'"{second}": {one_ege}, "ege": [', 1)
    result = load(text.encode())
    assert len(result.etablissements) == 1  # only the other OG's
    rejected = sorted(r.path for r in result.rejets if "deux fois" in r.reason)
    assert rejected == ["pmej[0].ege[0]", "pmej[0].ege[1]", "pmej[0].ege[2]"]
    assert all("pmej[0].ege" in r.reason.lower() for r in result.rejets if r.path in rejected)
    assert result.meta["ege_total"] == 4
    _accounted(result)


def test_scalar_given_twice_with_different_values_rejects_that_ege() -> None:
    ets = _four()
    text = json.dumps(flow([pmej(EJ, [ege(ets[0]), ege(ets[1])])]))
    text = text.replace(f'"numFinessEge": "{ets[1]}"',
                        f'"numFinessEge": "{ets[2]}", "NUMFINESSEGE": "{ets[1]}"', 1)
    result = load(text.encode())
    assert result.etablissements["finess_et"].tolist() == [ets[0]]
    (bad,) = result.rejets
    assert bad.path == "pmej[0].ege[1]"
    assert "NUMFINESSEGE" in bad.reason and "deux fois" in bad.reason


def test_same_scalar_given_twice_with_the_same_value_is_harmless() -> None:
    ets = _four()
    text = json.dumps(flow([pmej(EJ, [ege(ets[0])])]))
    text = text.replace(f'"numFinessEge": "{ets[0]}"',
                        f'"numFinessEge": "{ets[0]}", "numFinessEge": "{ets[0]}"', 1)
    result = load(text.encode())
    assert result.etablissements["finess_et"].tolist() == [ets[0]]
    assert not result.rejets


def test_informations_given_twice_rejects_that_ege() -> None:
    ets = _four()
    text = json.dumps(flow([pmej(EJ, [ege(ets[0]), ege(ets[1])])]))
    text = text.replace('"informationsGeneralesEGE": {', '"informationsGeneralesEGE": {}, '
                        '"informationsGeneralesEGE": {', 1)
    result = load(text.encode())
    assert result.etablissements["finess_et"].tolist() == [ets[1]]
    assert [r.path for r in result.rejets] == ["pmej[0].ege[0]"]


def test_og_number_given_twice_rejects_every_establishment_of_the_entity() -> None:
    ets = _four()
    text = json.dumps(flow([pmej(EJ, [ege(ets[0]), ege(ets[1])])]))
    other = finess("45", 902)
    text = text.replace(f'"numFinessPm": "{EJ}"',
                        f'"numFinessPm": "{other}", "numFinessPm": "{EJ}"', 1)
    result = load(text.encode())
    assert len(result.etablissements) == 0
    assert sorted(r.path for r in result.rejets) == ["pmej[0].ege[0]", "pmej[0].ege[1]"]
    assert all("numFinessPm" in r.reason for r in result.rejets)


def test_pmej_array_given_twice_is_read_whole_and_said() -> None:
    ets = _four()
    text = json.dumps(flow([pmej(EJ, [ege(ets[0])])]))
    second = json.dumps([pmej(finess("45", 901), [ege(ets[1])])])
    text = text.replace('"pmej": [', f'"PMEJ": {second}, "pmej": [', 1)
    result = load(text.encode())
    assert sorted(result.etablissements["finess_et"]) == sorted(ets[:2])
    assert sorted(result.meta["ege_mis_de_cote"]) == ["fermes", "inactifs", "og_fermes"]
    assert any("« pmej » donné 2 fois" in w for w in result.warnings)


@pytest.mark.parametrize("value", [["a", "b"], {"x": 1}, True, 1e308])
def test_wrong_types_are_rejects_not_crashes(value: Any) -> None:
    ets = _four()
    bad = ege(ets[1])
    bad["informationsGeneralesEGE"]["numFinessEge"] = value
    result = load(json.dumps(flow([pmej(EJ, [ege(ets[0]), bad])])).encode())
    assert result.etablissements["finess_et"].tolist() == [ets[0]]
    assert [r.path for r in result.rejets] == ["pmej[0].ege[1]"]


def test_huge_integer_refuses_the_file_with_a_french_message() -> None:
    """The JSON parser itself refuses a 6,000-digit integer: a clean refusal, no crash."""
    ets = _four()
    text = json.dumps(flow([pmej(EJ, [ege(ets[0]), ege(ets[1])])]))
    text = text.replace(f'"numFinessEge": "{ets[1]}"', '"numFinessEge": ' + "9" * 6000, 1)
    with pytest.raises(IngestError, match="JSON invalide") as info:
        load(text.encode())
    assert len(str(info.value)) < 600


def test_group_members_of_a_wrong_type_are_ignored() -> None:
    doc = flow([pmej(EJ, [ege(_four()[0])])],
               gcc=[{"nomGcc": "G", "pmejDuGcc": 5, "egeDuGcc": "x"}])
    result = load(json.dumps(doc).encode())
    assert len(result.etablissements) == 1


def test_lone_surrogate_in_a_name_rejects_only_that_record() -> None:
    ets = _four()
    text = json.dumps(flow([pmej(EJ, [ege(ets[0]), ege(ets[1])])]))
    text = text.replace(f'"nomEgeLong": "EHPAD FICTIF {ets[1]}"',
                        '"nomEgeLong": "EHPAD \\udc00 FICTIF"', 1)
    result = load(text.encode())
    assert result.etablissements["finess_et"].tolist() == [ets[0]]
    (bad,) = result.rejets
    assert bad.path == "pmej[0].ege[1]"
    assert bad.field.lower() == "nomegelong"
    assert "ege[1].informationsgeneralesege.nomegelong" in bad.reason.lower()
    assert "UTF-16" in bad.reason


def test_preview_is_one_safe_line() -> None:
    deep: Any = []
    for _ in range(10_000):
        deep = [deep]
    assert preview(deep).startswith("[…]")
    assert preview("a\nb\udc00" + "x" * 500) == "a\\u000ab\\udc00" + "x" * 45 + "…"
    assert preview(10**5000)  # str() would refuse more than 4,300 digits
    assert too_deep(deep) == "[0]" * MAX_DEPTH


@pytest.mark.parametrize("levels", [100, 10_000])
def test_rule_file_nested_too_deep_is_a_french_rules_error(tmp_path: Path, levels: int) -> None:
    from grappes.programme.rules import RulesError, load_rules

    path = tmp_path / "profond.toml"
    path.write_text('nom = "x"\nvaleur = ' + "[" * levels + "]" * levels + "\n", encoding="utf-8")
    with pytest.raises(RulesError, match=f"plus de {MAX_DEPTH} niveaux"):
        load_rules(path)


# ---------------------------------------------------------- etalab: said, not silent


def _etalab(commune: str, *, bom_line: bool = False) -> bytes:
    sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
    import builders as b

    ets = [b.Et(b.finess("37000001"), b.finess("37000100"), "500", "37", "261"),
           b.Et(b.finess("37000002"), b.finess("37000100"), "500", "37", commune)]
    f = b.EtalabFile(ets=ets)
    text = f.text()
    if bom_line:
        lines = text.split("\n")
        lines[2] = "\ufeff" + lines[2]
        text = "\n".join(lines)
    return text.encode("utf-8")


def test_a_one_character_commune_code_padded_is_said_with_its_line() -> None:
    result = load(_etalab("4"))
    assert len(result.etablissements) == 2
    (warning,) = [w for w in result.warnings if "complété par des zéros" in w]
    assert "ligne 3" in warning and "« 4 » → 37004" in warning


def test_a_bom_at_the_start_of_a_line_gets_a_clear_reason() -> None:
    result = load(_etalab("262", bom_line=True))
    assert len(result.etablissements) == 1
    (bad,) = result.rejets
    assert bad.line == 3 and "BOM (U+FEFF) en début de ligne" in bad.reason
    assert "section inconnue" not in bad.reason


def test_finess_plus_commune_that_lost_its_leading_zero_is_said() -> None:
    ets = _four()
    doc = flow([pmej(EJ, [ege(ets[0], commune="1004")])])
    doc["pmej"][0]["ege"][0]["adresse"][0]["cogCommune"] = 1004
    result = load(json.dumps(doc).encode())
    assert result.etablissements["commune"].tolist() == ["01004"]
    assert any("pmej[0].ege[0] (« 1004 » → 01004)" in w for w in result.warnings)


@pytest.mark.parametrize("levels", [65, 200])
def test_value_nested_past_the_limit_but_parsable_rejects_only_its_ege(levels: int) -> None:
    """Deeper than 64 levels but not deep enough to stop the C parser (about 1,000): the
    vectorised depth scan sends the record to the exact reader, which names the path."""
    deep = "[" * levels + "]" * levels
    result = load(_with(_doc_with_mark("nomEgeLong"), deep))
    assert len(result.etablissements) == 3
    (bad,) = [r for r in result.rejets if r.path == "pmej[0].ege[1]"]
    assert f"plus de {MAX_DEPTH} niveaux" in bad.reason
    _accounted(result)


def test_the_sample_flow_reads_the_same_whatever_the_chunk_size(monkeypatch) -> None:
    """Records cut anywhere by the chunk boundaries (the committed sample flow, read 1 MB and
    then 4,093 bytes at a time): the same table, rejects and counts."""
    from grappes.core.paths import sample_dir
    from grappes.ingest import json_chunks
    from grappes.ingest.sample import SAMPLE_FINESS_PLUS

    path = sample_dir() / SAMPLE_FINESS_PLUS
    whole = load(path)
    monkeypatch.setattr(json_chunks, "CHUNK_BYTES", 4093)
    cut = load(path)
    assert whole.etablissements.equals(cut.etablissements)
    assert whole.rejets == cut.rejets
    assert whole.warnings == cut.warnings
    assert whole.meta == cut.meta
    assert len(whole.etablissements) > 1000


def test_a_field_unknown_to_the_reader_is_harmless_but_a_case_clash_rejects() -> None:
    ets = _four()
    good, clash = ege(ets[0]), ege(ets[1])
    good["champFutur"] = {"sousChamp": [1, 2]}
    clash["informationsGeneralesEGE"]["NomEgeLong"] = "AUTRE NOM"
    result = load(json.dumps(flow([pmej(EJ, [good, clash])])).encode())
    assert result.etablissements["finess_et"].tolist() == [ets[0]]
    (bad,) = result.rejets
    assert bad.path == "pmej[0].ege[1]" and "NomEgeLong" in bad.reason
    _accounted(result)
