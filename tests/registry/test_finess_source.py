"""Issue 19, item 4: the registry finds a FINESS file without any setting.

The source is the caller's argument, else ``GRAPPES_FINESS``, else the file stored by
``grappes registre init --finess``, else the bundled sample; the sample serves the search
but does not reject a declared ESMS absent from it, while a chosen file does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.core.finess import luhn_key
from grappes.registry import EsmsSaisie, RegistreError, Registry, SaisieInvalide
from grappes.registry.adapters import load_finess
from grappes.registry.errors import AccesRefuse
from grappes.registry.finess_source import ENV_FINESS, SAMPLE
from tests.followup_exports import upgrade_region
from tests.registry.conftest import LIGHT, OG_A, PASSWORD, World, saisie

runner = CliRunner()


def _absent_from_sample() -> tuple[str, str]:
    """A valid (Luhn) FINESS ET and EJ of Indre-et-Loire that the sample does not hold."""
    known = set(load_finess(SAMPLE)["finess_et"]) | set(load_finess(SAMPLE)["finess_ej"])
    numbers = [f"3799{i:04d}" + luhn_key(f"3799{i:04d}") for i in range(40)]
    free = [n for n in numbers if n not in known]
    return free[0], free[1]


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    """Every test here starts without GRAPPES_FINESS nor GRAPPES_DB_URL."""
    monkeypatch.delenv(ENV_FINESS, raising=False)
    monkeypatch.delenv("GRAPPES_DB_URL", raising=False)


def test_resolution_order_argument_env_database_sample(tmp_path, monkeypatch):
    db = str(tmp_path / "grappes.db")
    reg = Registry(db)
    reg.init()
    src = reg.source_finess()
    assert (src.valeur, src.origine, src.stricte) == (SAMPLE, "defaut", False)
    region = upgrade_region(tmp_path / "region.csv")
    valeur, n = reg.configurer_finess(str(region))
    assert (valeur, n) == (str(region.resolve()), 16)
    again = Registry(db)  # another process: the stored file, no variable
    assert (again.source_finess().valeur, again.source_finess().origine) == (valeur, "base")
    assert again.source_finess().stricte
    monkeypatch.setenv(ENV_FINESS, SAMPLE)
    assert again.source_finess().origine == "environnement"
    assert Registry(db, finess=str(region)).source_finess().origine == "argument"
    reg.db.dispose()
    again.db.dispose()


def test_database_not_initialised_falls_back_to_the_sample(tmp_path):
    reg = Registry(str(tmp_path / "vide.db"))
    assert reg.source_finess().origine == "defaut"
    assert len(reg.finess_table()) == len(load_finess(SAMPLE).drop_duplicates("finess_et"))
    reg.db.dispose()


def test_init_finess_stores_the_file_and_says_how_many_esms(tmp_path):
    db = str(tmp_path / "grappes.db")
    region = upgrade_region(tmp_path / "region.csv")
    r = runner.invoke(app, ["registre", "init", "--base", db])
    assert r.exit_code == 0, r.output
    assert "Fichier FINESS utilisé : région exemple intégrée" in r.output.replace("\n", " ")
    r = runner.invoke(app, ["registre", "init", "--base", db, "--finess", str(region)])
    assert r.exit_code == 0, r.output
    out = r.output.replace("\n", "")
    assert "(16 ESMS)" in out and "registre init --finess" in out, out
    assert Registry(db).source_finess().valeur == str(region.resolve())
    # unreadable or missing: a French error, exit 1, the stored file unchanged
    bad = tmp_path / "pas-un-finess.csv"
    bad.write_text("bonjour;monde\n1;2\n", encoding="utf-8")
    r = runner.invoke(app, ["registre", "init", "--base", db, "--finess", str(bad)])
    assert r.exit_code == 1 and "fichier FINESS illisible" in r.output, r.output
    assert "Traceback" not in r.output
    r = runner.invoke(app, ["registre", "init", "--base", db, "--finess", str(tmp_path / "x")])
    assert r.exit_code == 1 and "fichier FINESS introuvable" in r.output, r.output
    assert Registry(db).source_finess().valeur == str(region.resolve())


def test_default_sample_accepts_an_esms_it_lacks_a_chosen_file_refuses_it(
        db_url, clock, tmp_path):
    et, ej = _absent_from_sample()
    reg = Registry(db_url, clock=clock, securite=LIGHT)
    reg.init()
    w = World(reg)
    token = w.make("z@test.fr", "declarant")
    w.attach(token, ej)
    outside = saisie(ej, "Zoé", "zoe@og.fr", esms=[EsmsSaisie(et, "PA", "37261", "EHPAD Z")])
    # default sample: an ESMS absent from it is checked as without a file
    v = reg.declarer(token, outside)
    assert [(e.finess_et, e.commune, e.champ) for e in v.esms] == [(et, "37261", "PA")]
    # an ESMS the sample holds is still checked against it (its OG, its field and commune)
    sample_et = str(load_finess(SAMPLE).query("finess_ej == @OG_A")["finess_et"].iloc[0])
    with pytest.raises(SaisieInvalide, match=f"dépend de l'OG {OG_A}"):
        reg.declarer(token, saisie(ej, "Zoé", "zoe@og.fr", esms=[EsmsSaisie(sample_et)]))
    # a chosen file (here stored by init --finess): the same ESMS absent from it is refused
    reg.configurer_finess(str(upgrade_region(tmp_path / "region.csv")))
    reg.retirer_declaration(token, v.id)
    with pytest.raises(SaisieInvalide, match="absent du fichier FINESS"):
        reg.declarer(token, outside)
    reg.db.dispose()


def test_admin_uploads_a_finess_file_in_the_page(db_url, clock, tmp_path, monkeypatch):
    """The page's « Fichier FINESS » tab: the admin's upload is kept in the registry's folder
    and becomes the file in force, as ``registre init --finess`` would; an unreadable upload
    keeps nothing and changes nothing; nobody else may upload."""
    monkeypatch.setenv("GRAPPES_FICHIERS", str(tmp_path / "fichiers"))
    reg = Registry(db_url, clock=clock, securite=LIGHT)
    reg.init()
    w = World(reg)
    admin = reg.connexion("admin@test.fr", PASSWORD).jeton
    region = upgrade_region(tmp_path / "region.csv")
    contenu = region.read_bytes()
    valeur, n = reg.televerser_finess(admin, "Région test (extrait).csv", contenu)
    stored = tmp_path / "fichiers"
    assert n == 16 and valeur.startswith(str(stored)) and valeur.endswith(".csv"), valeur
    assert Path(valeur).read_bytes() == contenu
    src = Registry(db_url).source_finess()  # another process reads the stored path
    assert (src.valeur, src.origine, src.stricte) == (valeur, "base", True)
    last = reg.journal(admin, 5)[0]  # newest first
    assert (last.action, last.detail) == ("parametre_finess", "16 ESMS, téléversé dans la page")
    # unreadable: a French error, no file kept, the file in force unchanged
    with pytest.raises(RegistreError, match="fichier FINESS illisible"):
        reg.televerser_finess(admin, "notes.csv", b"bonjour;monde\n1;2\n")
    with pytest.raises(RegistreError, match="fichier FINESS vide"):
        reg.televerser_finess(admin, "vide.csv", b"")
    assert sorted(p.name for p in stored.iterdir()) == [Path(valeur).name]
    assert reg.source_finess().valeur == valeur
    # only the admin
    for role, email in (("coordinateur", "co@test.fr"), ("declarant", "de@test.fr")):
        token = w.make(email, role, ["37"] if role == "coordinateur" else ())
        with pytest.raises(AccesRefuse):
            reg.televerser_finess(token, "r.csv", contenu)
    reg.db.dispose()


def test_uploaded_name_is_made_safe_and_keeps_the_reader_ending():
    from datetime import datetime

    from grappes.registry.finess_source import _nom_sur

    now = datetime(2026, 12, 5, 3, 4, 5)
    nom = _nom_sur("../../etc/FINESS Région=1.JSON.GZ", b"x", now)
    assert nom.startswith("finess-20261205-030405-finess-r-gion-1-") and nom.endswith(".json.gz")
    assert "/" not in nom and ".." not in nom
    assert _nom_sur("x", b"x", now) != _nom_sur("x", b"y", now)  # the content's fingerprint
