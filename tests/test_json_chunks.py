"""Issue 21 item 6: the chunked JSON cursor of the FINESS+ reader.

Records are parsed from 1 MB text chunks by the C scanner of ``json``; the tests here cut
the text at every kind of place (inside a string, an escape, a number, a multi-byte
character) with tiny chunks and check that nothing changes, and that the vectorised depth
scan agrees with a plain character walk.
"""

from __future__ import annotations

import io
import json
import random

import pytest

from grappes.ingest import json_chunks
from grappes.ingest.json_chunks import DepthScan, JsonBroken, JsonChunks

KEYS = frozenset({"a", "b", "nom", "liste"})


def _depth_walk(text: bytes) -> int:
    """Reference: the deepest bracket level outside strings, character by character."""
    depth = best = 0
    in_string = escaped = False
    for byte in text:
        char = chr(byte)
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            best = max(best, depth)
        elif char in "]}":
            depth -= 1
    return best


def _random_value(rng: random.Random, depth: int) -> object:
    kind = rng.random()
    if depth > 6 or kind < 0.3:
        pieces = ["x", "[", "]", "{", "}", '"', "\\", "é", "€", "\\u00e9", " "]
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
    if kind < 0.4:
        return rng.choice([0, -12, 3.5, 1e300, True, None])
    if kind < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["a", "b", "nom"]): _random_value(rng, depth + 1) for _ in range(3)}


@pytest.mark.parametrize("seed", range(5))
def test_depth_scan_agrees_with_a_character_walk_whatever_the_chunks(seed: int) -> None:
    rng = random.Random(seed)
    text = json.dumps([_random_value(rng, 0) for _ in range(40)], ensure_ascii=False)
    data = text.encode("utf-8")
    expected = _depth_walk(data)
    for _ in range(20):
        scan = DepthScan(limit=expected - 1)
        cuts = sorted(rng.sample(range(1, len(data)), min(30, len(data) - 1)))
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert any(scan.feed(piece) for piece in pieces)
        scan = DepthScan(limit=expected)
        assert not any(scan.feed(piece) for piece in pieces)
        assert scan.depth == 0 and not scan.in_string


def _records(data: bytes, chunk: int) -> list[json_chunks.Record]:
    """Every record of a top-level array, read ``chunk`` bytes at a time."""
    json_chunks.CHUNK_BYTES = chunk
    cursor = JsonChunks(io.BytesIO(data), KEYS, item_depth=66)
    cursor.expect("[")
    out = []
    while True:
        out.append(cursor.record())
        if cursor.expect(",]") == "]":
            return out


@pytest.fixture()
def small_chunks():
    saved = json_chunks.CHUNK_BYTES
    yield
    json_chunks.CHUNK_BYTES = saved


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_records_cut_anywhere_by_the_chunks_read_the_same(chunk: int) -> None:
    values = [
        {"a": 12345678901234, "b": -0.000125, "nom": "Élise « \\\" » \\\\ 世界 \\u00e9"},
        123456789,
        "texte",
        {"liste": [1, 2.5e-7, [True, False, None], {"a": "]}"}]},
        -7.25e10,
    ]
    data = json.dumps(values, ensure_ascii=False).encode("utf-8")
    records = _records(data, chunk)
    assert [r.value for r in records] == values
    assert all(r.text is None for r in records)


@pytest.mark.usefixtures("small_chunks")
def test_flagged_records_come_back_as_their_text() -> None:
    """Keys twice or in another spelling, or too deep: the text, for the exact reader.

    A chunk found too deep flags every record it touches (the chunks grow while a record
    larger than one is read); the records further on take the fast path again.
    """
    deep = "[" * 70 + "]" * 70
    pad = '"' + "x" * 200 + '"'
    text = (
        f'[{{"a": 1, "a": 2}}, {{"A": 1}}, {pad}, {{"a": {deep}}}, {{"b": {"[" * 5000}'
        f'{"]" * 5000}}}, {pad}' + ', {"nom": "ok"}' * 3000 + "]"
    )
    records = _records(text.encode(), 64)
    assert [r.text for r in records[:2]] == ['{"a": 1, "a": 2}', '{"A": 1}']
    assert records[3].text == '{"a": ' + deep + "}" and not records[3].deep
    assert records[4].deep and records[4].text.startswith('{"b": [[[')
    assert records[4].text.endswith("]]}")
    assert records[-1].value == {"nom": "ok"} and records[-1].text is None


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize(
    ("text", "truncated"),
    [('[{"a": 1}, {"a": ', True), ('[{"a": 1} {"a": 2}]', False), ('[{"a": tru}]', False),
     ('[{"nom": "sans fin', True)],
)
def test_broken_text_is_told_apart_from_a_cut_record(text: str, truncated: bool) -> None:
    for chunk in (4, 1 << 20):
        with pytest.raises(JsonBroken) as info:
            _records(text.encode(), chunk)
        assert info.value.truncated is truncated


@pytest.mark.usefixtures("small_chunks")
def test_an_unknown_field_stays_on_the_fast_path_a_case_clash_does_not() -> None:
    text = '[{"nom": "a", "champNouveau": 1}, {"nom": "b", "NOM": "c"}, {"x": 1, "X": 2}]'
    records = _records(text.encode(), 1 << 20)
    assert records[0].value == {"nom": "a", "champNouveau": 1} and records[0].text is None
    assert records[1].text == '{"nom": "b", "NOM": "c"}'
    assert records[2].text == '{"x": 1, "X": 2}'


def test_escaped_quotes_are_neutral_whatever_the_backslash_runs() -> None:
    """A quote after an odd run of backslashes is escaped, after an even run it is not: the
    quotes and brackets the scan keeps are those of a left-to-right pairing of the escapes."""
    rng = random.Random(7)
    structural = bytes(sorted(set(range(256)) - set(b'"[]{}')))
    for _ in range(2000):
        data = "".join(rng.choice(['"', "\\", "x", "[", "é"]) for _ in range(rng.randint(0, 30)))
        raw = data.encode("utf-8").rstrip(b"\\")
        expected = raw.replace(b"\\\\", b"xx").replace(b'\\"', b"xx")
        got = json_chunks._neutral_escapes(raw)
        assert len(got) == len(raw)
        assert bytes(got).translate(None, structural) == expected.translate(None, structural)


@pytest.mark.parametrize("count", [0, 3, json_chunks._WALKED, json_chunks._WALKED + 1, 1000])
def test_backslashes_are_all_found_walked_or_searched(count: int) -> None:
    rng = random.Random(count)
    data = bytearray(b"x" * 5000)
    for at in rng.sample(range(len(data)), count):
        data[at] = 92
    expected = [k for k, byte in enumerate(data) if byte == 92]
    assert json_chunks.backslashes(bytes(data)).tolist() == expected
