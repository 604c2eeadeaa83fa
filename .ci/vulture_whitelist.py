"""Names vulture reports as unused but that are used, each with why (read by vulture only).

Vulture reads the code as text: it cannot see a name used by a library (an ORM column, a
CP-SAT parameter, an ``io`` method), by name in a string, or by a dataclass field written out
with ``asdict``. Each of those is listed here once, grouped by reason. A new report that is not
one of these is dead code: delete it rather than list it here. Run: ``vulture`` (its settings
are under ``[tool.vulture]`` in pyproject.toml).
"""

# ruff: noqa: B018, F821

# Fields of frozen dataclasses read from the bundled CSV files (data/nomenclatures/,
# grappes/synthetic/), written to outputs through ``asdict``, or read by name with
# ``getattr``/``DataFrame`` columns (the follow-up's indicator codes).
agregat  # grappes/core/nomenclature.py, grappes/synthetic/calibration.py
medicalise_selon_mft  # grappes/core/nomenclature.py
domaine  # grappes/core/nomenclature.py
min_pop  # grappes/synthetic/calibration.py (the places' weights, as a column)
slope_per_month  # grappes/followup/forecast.py: the trend of a Projection, read by its tests
dmp_alimentes  # grappes/followup/indicators.py, grappes/registry/suivi_tables.py
dossiers_projet_personnalise  # idem
dossiers_evenement  # idem
n_og_apres  # grappes/scenarios/partners.py (a column of the partner table)

# Set but never read; kept here only while another change rewrites the file (issue 24).
rules_title  # grappes/solver/propose.py: ProposalReport.rules_title (ruleset.title is read)

# SQLAlchemy: mapped columns and relationships set by the ORM or by assignment on a row.
cree_le
cree_par
saisie_par
saisi_le
saisi_par
consentement_le
consentement_version
retiree_le
effacee_le
repondue_le
constituee_le
verifiee_par
declaration  # grappes/registry/models.py (a relationship)
_.isolation_level  # grappes/registry/db.py: the sqlite3 connection's, set in a driver hook

# OR-Tools CP-SAT parameters, set as attributes on ``solver.parameters``.
_.random_seed
_.num_workers
_.interleave_search
_.max_deterministic_time
_.max_time_in_seconds
_.log_search_progress
_.cp_model_probing_level
_.merge_at_most_one_work_limit

# Protocols that the standard library calls.
_.readable  # io.RawIOBase (grappes/ingest/finess_plus.py's streams)
__getattr__  # PEP 562 lazy module attributes (grappes/solver/__init__.py)

# Tests: an actor of the authorisation matrix, reached by name (tests/registry/).
_.ars_other

# Added at the merge of issues 18–21 (each name is read where vulture cannot see it).
EXIT_OK  # the exit-code table's 0 (grappes/core/errors.py), documented in formats-entree.md
_.premier_admin  # ORM column: its unique index makes the first admin once (registry/models.py)
_.decide_par  # ORM column: who approved or refused an attachment, read by the audit views
_.enregistree_par  # ORM column: who recorded a vérification (suivi history)
_fixed_terminal  # autouse pytest fixture (tests/conftest.py): fixed COLUMNS for every test
_.handle_DATA  # aiosmtpd calls its handler's handle_DATA (tests/registry/test_outbox.py)

# SolverStats' optional entries: set by the solver's callers, read through the mapping that
# the JSON reports write (grappes/solver/proposal.py)
_.timings_s
_.liens_fichier
_.precalcule
# ... and its counts, read by name from the report (stats["esms_total"]…) by the CLI, the
# benchmarks and the tests
_.esms_total
_.esms_eligible
_.esms_groupable
_.subproblems
_.selection_groups
_.selection_groups_optimal
_.zones_improved
_.zones_certified
_.by_subproblem
_.by_champ
_no_env  # autouse pytest fixture (tests/registry/test_finess_source.py)
_.readinto  # the raw-stream protocol: io.BufferedReader calls it (grappes/ingest/finess_plus.py)
small_chunks  # pytest fixture used by name (@pytest.mark.usefixtures, tests/test_json_chunks.py)
# the FINESS+ fields the reader does not use, declared in its msgspec structures so that a run
# holding them stays on the fast path (grappes/ingest/finess_plus_schema.py)
_.codePostal
_.complementVoie
_.dateCreation
_.dateDerniereMaj
_.dateOuverture
_.datePremiereAutorisation
_.idEgeNonPorteuse
_.idEgePorteuse
_.libelleVoie
_.ligneAcheminement
_.ligneSix
_.ligneUne
_.numeroVoie
_.roleContact
_.roleEge
_.roleRelationEge
_.scoreBAN
_.siren
_.telecom
_.typeBudget
_.typeContact
_.typePersonneMorale
_.typeVoie
