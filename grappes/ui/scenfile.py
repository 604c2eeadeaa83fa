"""Saving and loading a scenario file in the app (``grappes.scenarios.scenario_file``).

Why this module: loading a file is more than ``load_scenario``. The page rebuilds its what-if
scenario whenever the sidebar's choices (rule set, région, départements, field, seed, time)
give another proposal key (``grappes.ui.proposalstate.scenario_for``), so a loaded scenario
must come with the sidebar values it was saved with and the key they make, or the next run
throws it away.
:func:`prepare_load` reads the file and works those out (refusing, in French, a file whose
région or field this input does not offer); :func:`install` puts it all in the session
state. Both take plain values and a mapping, so they are tested without a page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from grappes.core.model import LoadResult
from grappes.scenarios.scenario import Scope
from grappes.scenarios.scenario_file import (
    LoadedScenario,
    ScenarioFileError,
    load_scenario,
    save_scenario,
)
from grappes.scenarios.view import View
from grappes.scenarios.whatif import WhatIf
from grappes.solver.settings import SolverSettings

#: the field selector's value for "every eligible field"
ALL_CHAMPS = "tous les champs"
#: bounds of the sidebar's "Temps de sélection exacte (s)" input
TIME_LIMIT_BOUNDS = (0.5, 120.0)
#: the session key telling the page its scenario came from a file (name of the file)
FROM_FILE = "scenario_file"
#: the session key of the loaded file's French notes (shown as warnings)
NOTES = "scenario_notes"

def report_key(data_key: str, view: View) -> str:
    """The key of the proposal the page computes for these sidebar choices: the what-if
    scenario in the session belongs to one key (a new key starts a new scenario)."""
    return f"{data_key}|{view.key()}"


def scenario_bytes(whatif: WhatIf, result: LoadResult | None,
                   meta: tuple[Scope | None, SolverSettings | None] | None) -> bytes:
    """The scenario file of the grouping as shown (edits included), with the scope and the
    settings of the proposal it was made on."""
    scope, settings = meta or (None, None)
    return save_scenario(whatif, result, scope=scope, settings=settings)


@dataclass(frozen=True)
class ScenarioLoad:
    """A scenario file read on the current input, with the sidebar values it needs."""

    loaded: LoadedScenario
    #: sidebar widget key -> value (rule set, région, départements, field, seed, time)
    widgets: dict[str, Any]
    #: the proposal key those values give (``report_key``)
    key: str
    #: the file's name, shown on the page
    name: str

    @property
    def notes(self) -> list[str]:
        """What no longer fits (French); empty when data and rules are as saved."""
        return list(self.loaded.notes)


def prepare_load(
    data: bytes,
    name: str,
    result: LoadResult,
    data_key: str,
    *,
    rule_names: Sequence[str],
    territories: tuple[Sequence[str], Mapping[str, Sequence[str]]],
    champs_for: Callable[[str], Sequence[str]],
) -> ScenarioLoad:
    """Read a scenario file on the loaded input and the sidebar values that show it.

    ``rule_names``: the rule sets the sidebar offers; ``territories``: its régions and their
    départements; ``champs_for(rules)``: its fields for a rule set. Raises
    ``ScenarioFileError`` (French) for an unusable file or one made for a rule set, région,
    département or field this input does not offer.
    """
    loaded = load_scenario(data, result)
    rules = loaded.whatif.rules.name
    if rules not in rule_names:
        msg = (f"le scénario a été enregistré avec le jeu de règles « {rules} », absent de "
               "cette installation : il ne peut pas être affiché")
        raise ScenarioFileError(msg)
    regions, deps = territories
    region = loaded.scope.region
    if region not in regions:
        where = f"la région {region}" if region else "toutes les régions"
        msg = (f"le scénario porte sur {where}, absente des données chargées : chargez les "
               "mêmes fichiers que lors de l'enregistrement")
        raise ScenarioFileError(msg)
    missing = sorted(set(loaded.scope.departements) - set(deps.get(region, ())))
    if missing:
        msg = (f"département(s) du scénario absent(s) des données chargées : "
               f"{', '.join(missing)}")
        raise ScenarioFileError(msg)
    champ = loaded.whatif.champ
    field = champ or ALL_CHAMPS
    if champ and champ not in champs_for(rules):
        msg = (f"le champ {champ} du scénario n'est pas dans les données chargées (ou pas "
               f"éligible à l'appel « {rules} »)")
        raise ScenarioFileError(msg)
    settings = loaded.settings
    low, high = TIME_LIMIT_BOUNDS
    time_limit = min(max(float(settings.time_limit), low), high)
    departements = tuple(str(d) for d in loaded.scope.departements)
    widgets = {"rules": rules, "region": region, f"departements_{region}": list(departements),
               "champ": field, "seed": int(settings.seed), "time_limit": time_limit}
    key = report_key(data_key, View(rules, region, departements, champ, settings.seed,
                                    time_limit))
    return ScenarioLoad(loaded=loaded, widgets=widgets, key=key, name=name)


def install(state: MutableMapping[str, Any], load: ScenarioLoad) -> None:
    """Make the loaded scenario the page's: sidebar values, scenario, its scope and settings,
    and the proposal key they give (so the page keeps it instead of rebuilding one). The
    edit log and the undo stack start empty: the file, not the address, holds its edits."""
    for widget, value in load.widgets.items():
        state[widget] = value
    from grappes.ui import actions

    actions.commit(state, scenario=load.loaded.whatif,
                   scenario_meta=(load.loaded.scope, load.loaded.settings),
                   scenario_key=load.key, edit_log=[], undo=[], replay_dropped=[])
    state[FROM_FILE] = load.name
    state[NOTES] = load.notes


def forget(state: MutableMapping[str, Any]) -> None:
    """The page left the loaded scenario (new proposal key): drop its name and notes."""
    state.pop(FROM_FILE, None)
    state.pop(NOTES, None)
