"""The command line's own words are French (``grappes.cli.french``): help panels, the help
option, the usage line and the password confirmation, on real ``--help`` output."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from grappes.cli.french import new_password
from grappes.cli.main import app

ENGLISH = ("Show this message", "Usage:", "Commands", "[default:", "[required]",
           "Repeat for confirmation")


@pytest.mark.parametrize("args", [
    ["--help"], ["proposer", "--help"], ["registre", "--help"],
    ["registre", "compte", "ajouter", "--help"], ["suivi", "versement", "--help"],
])
def test_help_is_french(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Utilisation : " in result.output
    assert "Afficher cette aide et quitter." in result.output
    found = [w for w in ENGLISH if w in result.output]
    assert not found, f"mots anglais dans {' '.join(args)} : {found}"
    if args in (["--help"], ["registre", "--help"]):
        assert "Commandes" in result.output


def test_new_password_is_asked_again_until_both_entries_agree() -> None:
    probe = typer.Typer()

    @probe.command()
    def ask() -> None:
        typer.echo(f"retenu : {new_password('Mot de passe')}")

    result = CliRunner().invoke(probe, [], input="premier-essai-1\nautre-chose-22\n"
                                "bon-mot-de-passe\nbon-mot-de-passe\n")
    assert result.exit_code == 0, result.output
    assert "Les deux saisies diffèrent : recommencez." in result.output
    assert "retenu : bon-mot-de-passe" in result.output
    assert "Repeat" not in result.output and "do not match" not in result.output


@pytest.mark.parametrize(("args", "french"), [
    (["proposer", "--option-inconnue"], "option inconnue : --option-inconnue"),
    (["suivi", "versement"], "option obligatoire manquante : --grappe"),
    (["proposer", "--graine", "x"], "nombre entier attendu"),
    (["proposer", "--champ"], "l'option --champ attend une valeur"),
    (["commande-inconnue"], "commande inconnue : « commande-inconnue »"),
    (["proposer", "a.csv", "b.csv"], "argument(s) en trop : b.csv"),
])
def test_usage_errors_are_french(args: list[str], french: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.replace("│", " ").split())
    assert french in text, text
    assert not any(w in text for w in ("No such", "Missing", "Invalid value", "Got unexpected",
                                       "Input should"))
