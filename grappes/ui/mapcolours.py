"""Colours of the proposal map: the grappe palette, neighbour-aware colouring, the legend.

Why graph colouring: a region has 20 to 60 grappes, more than any palette a reader can tell
apart, so a colour cannot be unique. What the reader needs is that two grappes that *look*
alike on the map (members close together, outlines touching, or simply next to each other)
never share a colour. The grappes are the nodes of a graph whose edges join such neighbours;
networkx's greedy colouring (DSATUR, ties broken by grappe id, so deterministic) gives each
node a palette index different from all its neighbours'.

The palette (24 colours) was picked greedily from matplotlib's qualitative maps for the
largest CIELAB distance to the colours already chosen, without greys (grey marks ESMS in no
grappe) and without near-black or near-white (the isolated-ESMS ring is black on white):
every pair differs by at least ΔE 20, and the first colours, used most, differ most.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

import networkx as nx
import numpy as np

from grappes.scenarios.ids import sorted_ids

Colour = tuple[int, int, int]

PALETTE: tuple[Colour, ...] = (
    (31, 119, 180), (255, 217, 47), (240, 2, 127), (44, 160, 44), (166, 86, 40),
    (206, 219, 156), (222, 158, 214), (106, 61, 154), (228, 26, 28), (23, 190, 207),
    (255, 127, 0), (99, 121, 57), (255, 152, 150), (253, 191, 111), (27, 158, 119),
    (166, 216, 84), (123, 65, 115), (127, 201, 127), (140, 109, 49), (156, 158, 222),
    (252, 141, 98), (173, 73, 74), (188, 189, 34), (206, 109, 189),
)  # fmt: skip
#: Colour of each programme field when several fields are drawn ("tous les champs").
FIELD_COLOURS: dict[str, Colour] = {
    "PA": PALETTE[0], "PH": PALETTE[2], "DOM": PALETTE[3], "PDS": PALETTE[4],
    "PDE": PALETTE[7], "AHI": PALETTE[10], "PJM": PALETTE[9],
}  # fmt: skip
UNPLACED_COLOUR: tuple[int, int, int, int] = (150, 150, 150, 170)
#: The isolated autonomous ESMS marker: a black ring on a white halo, visible on any colour.
ISOLE_RING: tuple[int, int, int, int] = (0, 0, 0, 255)
ISOLE_HALO: tuple[int, int, int, int] = (255, 255, 255, 255)
PORTEUR_LINE: tuple[int, int, int, int] = (20, 20, 20, 255)
BOUNDARY_LINE: tuple[int, int, int, int] = (90, 90, 110, 200)
BOUNDARY_FILL: tuple[int, int, int, int] = (235, 238, 245, 60)
HIGHLIGHT_LINE: tuple[int, int, int, int] = (0, 0, 0, 255)
DEPARTEMENT_TEXT: tuple[int, int, int, int] = (70, 70, 100, 255)
TOWN_TEXT: tuple[int, int, int, int] = (40, 40, 40, 255)

#: Mean Earth radius, km (distances for adjacency only: a few % error is harmless).
_EARTH_KM = 6371.0


def local_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(n, 2) kilometre coordinates in which short distances are right anywhere on Earth.

    Each point's longitude is scaled by the cosine of its own latitude, so that a mainland
    région and an overseas territory can be in the same table without one shared origin.
    """
    lon_r = np.radians(np.asarray(lon, dtype=float))
    lat_r = np.radians(np.asarray(lat, dtype=float))
    return np.column_stack([_EARTH_KM * lon_r * np.cos(lat_r), _EARTH_KM * lat_r])


#: Edge weights of the neighbour graph: how bad it is for two grappes to share a colour.
TOUCHING, NEAR, NEAREST_CENTRE = 3, 2, 1


def adjacency(
    members: Mapping[str, tuple[np.ndarray, np.ndarray]],
    near_km: float = 5.0,
    neighbours: int = 3,
    touching: Iterable[tuple[str, str]] = (),
) -> nx.Graph:
    """The neighbour graph of grappes (nodes: grappe ids), edges weighted by closeness.

    Two grappes are neighbours when the caller says their outlines touch (``touching``,
    weight 3), when a member of one is within ``near_km`` of a member of the other (weight 2),
    or when one's centre is among the other's ``neighbours`` nearest centres (weight 1).

    Parameters
    ----------
    members
        Grappe id -> (longitudes, latitudes) of its drawn members, degrees.
    """
    from scipy.spatial import cKDTree

    ids = sorted(members)
    graph = nx.Graph()
    graph.add_nodes_from(ids)

    def link(a: str, b: str, weight: int) -> None:
        if a != b and weight > graph.get_edge_data(a, b, {"weight": 0})["weight"]:
            graph.add_edge(a, b, weight=weight)

    if len(ids) < 2:
        return graph
    owner = np.concatenate([np.full(len(members[g][0]), i) for i, g in enumerate(ids)])
    xy = local_km(
        np.concatenate([np.asarray(members[g][0], dtype=float) for g in ids]),
        np.concatenate([np.asarray(members[g][1], dtype=float) for g in ids]),
    )
    ok = np.isfinite(xy).all(axis=1)
    owner, xy = owner[ok], xy[ok]
    count = np.bincount(owner, minlength=len(ids)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        centres = np.column_stack(
            [np.bincount(owner, xy[:, d], minlength=len(ids)) / count for d in (0, 1)]
        )
    placed = np.flatnonzero(np.isfinite(centres).all(axis=1))
    k = min(neighbours, len(placed) - 1)
    if k > 0:
        _, nearest = cKDTree(centres[placed]).query(centres[placed], k=k + 1)
        for row, i in enumerate(placed):
            for j in nearest[row, 1:]:
                link(ids[i], ids[placed[j]], NEAREST_CENTRE)
    if len(xy) and near_km > 0:
        pairs = cKDTree(xy).query_pairs(near_km, output_type="ndarray")
        a, b = owner[pairs[:, 0]], owner[pairs[:, 1]]
        for i, j in sorted(set(zip(a.tolist(), b.tolist(), strict=True))):
            link(ids[i], ids[j], NEAR)
    for a, b in touching:
        if a in graph and b in graph:
            link(a, b, TOUCHING)
    return graph


def colour_graph(graph: nx.Graph) -> dict[str, Colour]:
    """One palette colour per node, different from every neighbour's when the palette allows.

    Nodes are taken in DSATUR order (networkx, on a graph built in sorted order, so the
    result does not depend on the caller's order) and each gets, among the palette colours
    no coloured neighbour has, the one used least so far (so up to 24 grappes all differ,
    and beyond that the repeats are spread). When every colour is taken (a city where 30 grappes of
    every field overlap), the node gets the colour that costs least: the one whose
    neighbours holding it weigh least (distant centres before close members, before touching
    outlines), ties by palette order.
    """
    ordered = nx.Graph()
    ordered.add_nodes_from(sorted(graph.nodes))
    ordered.add_weighted_edges_from(
        sorted(
            (*sorted((str(a), str(b))), int(w)) for a, b, w in graph.edges(data="weight", default=1)
        )
    )
    order = list(nx.greedy_color(ordered, strategy="DSATUR"))
    index: dict[str, int] = {}
    used = np.zeros(len(PALETTE))
    for node in order:
        cost = np.zeros(len(PALETTE))
        for other, data in ordered[node].items():
            if other in index:
                cost[index[other]] += data["weight"]
        # least conflict first, then the colour used least so far, then palette order
        best = int(np.lexsort((np.arange(len(PALETTE)), used, cost))[0])
        index[node] = best
        used[best] += 1
    return {g: PALETTE[index[g]] for g in sorted(index)}


def grappe_colours(
    centres: Mapping[str, tuple[float, float]], neighbours: int = 6
) -> dict[str, Colour]:
    """Colours from grappe centres only (each grappe different from its nearest ones)."""
    members = {g: (np.array([c[0]]), np.array([c[1]])) for g, c in centres.items()}
    return colour_graph(adjacency(members, near_km=0.0, neighbours=neighbours))


def css(colour: Iterable[int]) -> str:
    """CSS ``rgb()`` / ``rgba()`` of a deck colour (alpha 0-255)."""
    c = [int(v) for v in colour]
    if len(c) == 4:
        return f"rgba({c[0]}, {c[1]}, {c[2]}, {c[3] / 255:.2f})"
    return f"rgb({c[0]}, {c[1]}, {c[2]})"


_SWATCH = (
    "display:inline-block;width:{w}px;height:{w}px;border-radius:50%;"
    "vertical-align:middle;margin-right:4px;{extra}"
)
_ITEM = '<span style="display:inline-block;margin:0 12px 4px 0;white-space:nowrap">{}{}</span>'


def _swatch(fill: str, extra: str = "", w: int = 12) -> str:
    return f'<span style="{_SWATCH.format(w=w, extra=f"background:{fill};{extra}")}"></span>'


#: the grappes' part of the legend scrolls past this height, so every grappe is listed
LEGEND_SCROLL = "max-height:24rem;overflow-y:auto;padding-right:4px"


def legend_html(
    colours: Mapping[str, Iterable[int]],
    labels: Mapping[str, str] | None = None,
    highlight: str | None = None,
    fields: Mapping[str, Iterable[int]] | None = None,
) -> str:
    """The map legend as a small HTML block (``st.markdown(..., unsafe_allow_html=True)``).

    First the markers (porteur, isolated autonomous ESMS, ESMS in no grappe, boundaries,
    names), then one swatch per grappe with its id (``labels`` may add a short text, e.g.
    the porteur's name): every grappe, in a box that scrolls past about fifteen lines (a
    cut list left most grappes of a région without a name on the map). With ``fields``
    (field -> colour, the "tous les champs" reading) the swatches are the fields instead.
    """
    from grappes.core.vocabulary import CHAMP_LABELS

    labels = dict(labels or {})
    markers = [
        _ITEM.format(
            _swatch("rgb(120,120,120)", f"border:2px solid {css(PORTEUR_LINE)};", 12),
            "ESMS de l'OG porteur",
        ),
        _ITEM.format(
            _swatch(
                "transparent",
                f"border:2px solid {css(ISOLE_RING)};"
                f"box-shadow:0 0 0 2px {css(ISOLE_HALO)}, inset 0 0 0 2px "
                f"{css(ISOLE_HALO)};",
                14,
            ),
            "anneau noir : ESMS autonome isolé",
        ),
        _ITEM.format(_swatch(css(UNPLACED_COLOUR), "", 8), "ESMS sans grappe"),
        _ITEM.format(
            '<span style="display:inline-block;width:18px;border-top:2px solid '
            f'{css(BOUNDARY_LINE)};vertical-align:middle;margin-right:4px"></span>',
            "limite et nom de département ; villes principales en noir",
        ),
    ]
    ids = sorted_ids(colours)  # the tables' order: field, then number
    items = []
    for g in ids:
        text = html.escape(g + (f" · {labels[g]}" if labels.get(g) else ""))
        if g == highlight:
            text = f"<b>{text} (sélectionnée)</b>"
        items.append(_ITEM.format(_swatch(css(list(colours[g])[:3])), text))
    grappes = (
        f'<div style="margin-top:2px"><b>Grappes</b> ({len(ids)} ; une couleur par grappe ; '
        "deux grappes voisines n'ont jamais la même couleur) :</div>"
        f'<div class="grappes-legende-liste" style="{LEGEND_SCROLL}">'
        + "".join(items) + "</div>"
        if items
        else ""
    )
    if fields:
        swatches = "".join(
            _ITEM.format(
                _swatch(css(list(colour)[:3])),
                html.escape(f"{champ} · {CHAMP_LABELS.get(champ, champ)}"),
            )
            for champ, colour in fields.items()
        )
        chosen = f" ; grappe sélectionnée : <b>{html.escape(highlight)}</b>" if highlight else ""
        grappes = (
            '<div style="margin-top:2px"><b>Champs</b> (tous les champs : une couleur par '
            "champ ; la grappe de chaque ESMS s'affiche au survol"
            + chosen
            + ") : "
            + swatches
            + "</div>"
        )
    return (
        '<div class="grappes-legende" style="font-size:0.85rem;line-height:1.6">'
        "<b>Légende</b> : " + "".join(markers) + grappes + "</div>"
    )
