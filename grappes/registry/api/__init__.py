"""The registry's Python API: the only way the app and the CLI read or change the registry.

``Registry`` is the one public facade; its methods live in modules with one job each:

- ``base``: session -> ``Principal``, audit log, optimistic locking, the lookup-then-authorise
  of each object (``RegistryBase``);
- ``comptes``: accounts, login, sessions;
- ``declarations``: declare, read, edit, withdraw, list, import;
- ``grappes``: matching, what-if edit, invitations and answers, constitution;
- ``ars``: aggregates, partner suggestions, export of constituted grappes;
- ``admin``: audit log, retention purge;
- ``rattachements``: who speaks for an OG (requests, decisions, contested claims).

The parts call each other through ``self`` where one job needs another (the purge erases
like a withdrawal, an ARS suggestion re-checks the grappe like an edit).

Every public method takes the caller's session token (``jeton``), opens ONE transaction,
builds the caller's ``Principal`` and asks ``policy.exiger`` before reading or writing
anything; refusals and unknown objects give the same ``AccesRefuse``. Accesses to personal
data (contacts, free text) and every change are written to the audit log in the same
transaction, with ids only.
"""

from __future__ import annotations

from grappes.registry.api.admin import AdminMixin
from grappes.registry.api.ars import ArsMixin
from grappes.registry.api.base import Clock, RegistryBase, parse_territoire, utcnow
from grappes.registry.api.comptes import ComptesMixin
from grappes.registry.api.declarations import DeclarationsMixin
from grappes.registry.api.grappes import GrappesMixin
from grappes.registry.api.rattachements import RattachementsMixin

__all__ = ["Clock", "Registry", "parse_territoire", "utcnow"]


class Registry(ComptesMixin, DeclarationsMixin, GrappesMixin, ArsMixin, AdminMixin,
               RattachementsMixin, RegistryBase):
    """The « mise en relation » registry on one database (see ``RegistryBase`` for the
    parameters): one object, the same methods for the app, the CLI and the follow-up."""
