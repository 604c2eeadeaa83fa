"""Building the bundled sample region (Centre-Val de Loire): its three files and its README.

``data/build/make_sample.py`` calls :func:`build_sample` to write ``data/sample/``; the app and
the CLI only read the written files (``grappes.ingest.sample``), so they never load the
generator. Same région and seed, same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from grappes.ingest.sample import SAMPLE_FINESS_PLUS, SAMPLE_REGION, SAMPLE_SEED
from grappes.synthetic.calibration import CATEGORIES
from grappes.synthetic.generate import SyntheticData, generate
from grappes.synthetic.layout import etalab_names
from grappes.synthetic.write_etalab import SyntheticPaths, write_etalab
from grappes.synthetic.write_finess_plus import write_finess_plus


def generate_sample() -> SyntheticData:
    """The rows of the bundled sample (same as the committed files)."""
    return generate([SAMPLE_REGION], seed=SAMPLE_SEED, include_overseas=False)


def build_sample(folder: str | Path) -> SyntheticPaths:
    """Write the sample files and their README into ``folder`` (deterministic)."""
    folder = Path(folder)
    data = generate_sample()
    paths = write_etalab(data, folder)
    write_finess_plus(data, folder / SAMPLE_FINESS_PLUS)
    (folder / "README.md").write_text(sample_readme(data), encoding="utf-8", newline="\n")
    return paths


def _table(frame: pd.DataFrame) -> str:
    """A small markdown table (no extra dependency)."""
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.to_numpy()]
    return "\n".join(lines)


def sample_counts(data: SyntheticData) -> dict[str, pd.DataFrame]:
    """Summary tables of a generated register (by field and département, OG sizes, DUI)."""
    et = data.etablissements
    esms = et[~et["sanitaire"].astype(bool)]
    by_dep = pd.crosstab(et["champ"], et["departement_insee"], margins=True, margins_name="total")
    order = ["PA", "PH", "DOM", "PDS", "PDE", "AHI", "PJM", "hors_champ", "total"]
    by_dep = by_dep.reindex([c for c in order if c in by_dep.index])
    by_dep.index.name = "champ"
    sizes = esms.groupby("nofinessej").agg(
        n=("nofinesset", "size"), deps=("departement_insee", "nunique")
    )
    bins = pd.cut(
        sizes["n"],
        [0, 1, 4, 10, 14, 49, 10_000],
        labels=["1", "2-4", "5-10", "11-14", "15-49", "50+"],
    )
    og = bins.value_counts().reindex(["1", "2-4", "5-10", "11-14", "15-49", "50+"])
    og_table = pd.DataFrame({"ESMS par OG": og.index.astype(str), "OG": og.to_numpy()})
    multi = int(((sizes["n"] >= 15) & (sizes["deps"] >= 2)).sum())
    dui = data.dui
    vendors = (
        dui[dui["dui_editeur"] != ""]
        .groupby(["dui_editeur", "editeur_segur"])
        .size()
        .rename("ESMS")
        .reset_index()
        .rename(columns={"dui_editeur": "éditeur", "editeur_segur": "Ségur"})
    )
    statuts = dui["dui_statut"].value_counts().rename("ESMS").reset_index()
    statuts.columns = ["dui_statut", "ESMS"]
    return {
        "by_dep": by_dep.reset_index(),
        "og": og_table,
        "vendors": vendors,
        "statuts": statuts,
        "multi": pd.DataFrame({"n": [multi]}),
    }


def sample_readme(data: SyntheticData) -> str:
    """The README written next to the sample files (counts computed from ``data``)."""
    et_name, ej_name, dui_name = etalab_names(data.extraction_date)
    tables = sample_counts(data)
    et = data.etablissements
    pa_ph = int(et["champ"].isin(["PA", "PH"]).sum())
    hospital_ehpad = _hospital_ehpad(data)
    multi = int(tables["multi"]["n"].iloc[0])
    n_geo = int(et["has_geo"].sum())
    files = _table(
        pd.DataFrame(
            [
                (
                    f"`{et_name}`",
                    "establishments, etalab cs1100507: line 1 "
                    f"`finess;etalab;111;{data.extraction_date}`, then {len(et)} `structureet` "
                    f"lines (32 items), then {n_geo} `geolocalisation` lines (6 items, "
                    "Lambert-93 metres, `sourcecoordet` like "
                    "`1,ATLASANTE,96,BAN,EPSG:2154 RGF93 / Lambert-93 (Métropole)`); UTF-8, "
                    "`;`, no header",
                ),
                (
                    f"`{ej_name}`",
                    f"legal entities (OG), etalab cs1100501: {len(data.entites)} `structureej` "
                    "lines (23 items, legal status at item 17)",
                ),
                (
                    f"`{SAMPLE_FINESS_PLUS}`",
                    "the same establishments in the FINESS+ open-data JSON flow "
                    "(`finess-structures`, gzip): one `pmej` per OG with its `ege`, groups "
                    "`gcc`/`gco`, a few closed establishments set aside by the reader; one "
                    "file is enough (OG names and legal statuses inside), see "
                    "`docs/finess-plus.md`",
                ),
                (
                    f"`{dui_name}`",
                    f"DUI side file, one line per ESMS ({len(data.dui)}): "
                    "`finess_et;dui_editeur;dui_statut;editeur_segur;deja_finance` "
                    "(`;`, UTF-8 with BOM)",
                ),
            ],
            columns=["file", "format"],
        )
    )
    rates = pd.DataFrame(
        [(c.code, c.libelle, c.champ, f"{c.rate:g}") for c in CATEGORIES],
        columns=["catégorie", "libellé", "champ", "pour 100 000 hab."],
    )
    return f"""# Région exemple synthétique / synthetic sample region (Centre-Val de Loire)

**Tout est fictif / everything here is synthetic.** These files imitate the FINESS open-data
extracts for the région Centre-Val de Loire (INSEE code {SAMPLE_REGION}: départements 18, 28,
36, 37, 41, 45) so that `grappes` runs out of the box (`grappes proposer --exemple`, the app's
first screen) and so that you can see the accepted formats (`grappes exemple --sortie DIR`).
Establishment and OG names all say `FICTIF` / `FICTIVE`; FINESS, SIRET and SIREN numbers are
random (valid check keys, but they may coincide with real ones by chance: never look them up);
phone numbers are in the ARCEP ranges reserved for fiction; DUI vendors are invented. Communes,
their populations and centroids are real (bundled geography, `data/geo/`).

{files}

## Contenu / what is in it

{pa_ph} PA/PH ESMS; establishments by field (champ) and département:

{_table(tables["by_dep"])}

Managing bodies (OG) by number of ESMS they run (health establishments not counted);
{multi} OGs run 15 or more ESMS in at least two départements; {hospital_ehpad} EHPAD share
their legal entity with a hospital (C.H.):

{_table(tables["og"])}

DUI vendors (fictitious) and statuses:

{_table(tables["vendors"])}

{_table(tables["statuts"])}

## Comment c'est fait / how it is generated

`python data/build/make_sample.py` (seed {data.seed}, about one second) calls
`grappes.synthetic.generate(["{SAMPLE_REGION}"], seed={data.seed}, include_overseas=False)` and
writes the three files and this README; running it twice gives byte-identical files
(`tests/test_synthetic_sample.py` checks the committed copy is up to date).

- **How many.** For each category, a national rate per 100 000 inhabitants (below) times the
  population of each département, rounded at random. The rates are round figures chosen so
  that a région of 2.6 million inhabitants gets about 300 EHPAD, 100 résidences autonomie and
  1 300 PA/PH ESMS in all; they are orders of magnitude, not statistics (see `README.md`).
- **Where.** In communes drawn with weight `population ** alpha` (EHPAD alpha 0.55 from 300
  inhabitants, so also in small rural communes; IME, ESAT, MAS about 1 from 1 000-2 000
  inhabitants; hospitals and CSAPA above 1, in towns), then 100-700 m from the commune
  centroid, inside the département. About 4 % carry only the commune centroid
  (`ADMIN-EXPRESS-2023`, score `.`) and 1.5 % have no `geolocalisation` line.
- **Who runs them.** Each category has a mix of managing bodies: autonomous public bodies
  (EHPAD statut 21/22, CCAS 17), EHPAD and services attached to the nearest C.H. (same EJ,
  statut 13/14), small associations (60/61, 1-10 ESMS close together), large associations
  and foundations (61/63, 15-80 ESMS around a home, crossing départements), commercial
  groups (SAS 95 / SA 73, one EJ per région), the Département (PMI, foyer de l'enfance) and
  the State (PJJ).
- **DUI.** Mostly one vendor per OG (6 % of ESMS differ, 7 % have none); a vendor not
  referenced Ségur is `non_conforme`, a Ségur one `conforme` or `a_mettre_a_niveau`;
  `deja_finance` mostly on OGs already conformant.

<details><summary>Rates per category / taux par catégorie</summary>

{_table(rates)}

</details>
"""


def _hospital_ehpad(data: SyntheticData) -> int:
    et = data.etablissements
    hospital_ej = set(et.loc[et["categetab"].isin(["355", "106", "101"]), "nofinessej"])
    return int((et["categetab"].eq("500") & et["nofinessej"].isin(hospital_ej)).sum())
