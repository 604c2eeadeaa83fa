"""Accounts, passwords and sessions of the registry.

Passwords are hashed with argon2id (argon2-cffi defaults unless ``Securite`` says
otherwise; a hash made with other parameters is re-made at the next successful login). A
session token is 32 random bytes of which only the SHA-256 is stored. After
``max_failures`` wrong passwords in a row the account is locked for ``lockout``; an unknown
e-mail, a wrong password and a locked account get the same message. There is no default
account: the first admin comes from the CLI.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from grappes.geo.paths import data_dir
from grappes.registry.config import Securite
from grappes.registry.errors import ConnexionRefusee, SaisieInvalide

EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']{1,190}\.[A-Za-z]{2,24}$")
#: the one answer to a refused login (unknown account, wrong password, locked account)
WRONG = ("adresse e-mail ou mot de passe incorrect (après plusieurs échecs, la connexion "
         "est suspendue quelques minutes)")


def normalise_email(email: str) -> str:
    return str(email or "").strip().lower()


def check_email(email: str, field: str = "email") -> str:
    value = normalise_email(email)
    if not EMAIL_RE.match(value):
        raise SaisieInvalide([(field, f"adresse e-mail invalide : {value[:80]!r}")])
    return value


def common_passwords_file() -> Path:
    """The bundled list of common passwords (``data/registre/mots-de-passe-courants.txt``),
    found like every bundled file (``grappes.geo.paths.data_dir``): a non-editable install has no
    ``data/`` folder next to the code."""
    return data_dir() / "registre" / "mots-de-passe-courants.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower-cased (comment lines skipped)."""
    lines = common_passwords_file().read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


def check_password(password: str, rules: Securite, email: str = "") -> None:
    """NIST SP 800-63B (5.1.1.2): long enough, not a known common password, not a run of
    the same few characters, not the e-mail or its name part; no composition rule."""
    if not isinstance(password, str) or len(password) < rules.min_password_length:
        raise SaisieInvalide([(
            "mot_de_passe",
            f"trop court : au moins {rules.min_password_length} caractères",
        )])
    low = password.lower()
    local = normalise_email(email).split("@")[0]
    if low in common_passwords() or len(set(low)) <= 3:
        raise SaisieInvalide([("mot_de_passe", "trop courant ou trop répétitif : choisissez "
                               "une phrase de passe personnelle")])
    if email and (normalise_email(email) in low or (len(local) >= 4 and local in low)):
        raise SaisieInvalide([("mot_de_passe", "ne doit pas contenir l'adresse e-mail")])


@lru_cache(maxsize=8)
def hasher(rules: Securite) -> PasswordHasher:
    """The argon2id hasher of a deployment's cost settings."""
    return PasswordHasher(time_cost=rules.argon2_passes, memory_cost=rules.argon2_memoire_kio,
                          parallelism=rules.argon2_voies)


def hash_password(password: str, rules: Securite) -> str:
    return hasher(rules).hash(password)


def verify_password(hashed: str | None, password: str, rules: Securite) -> bool:
    if not hashed:
        # same cost as a real check, so timing does not tell unknown accounts apart
        hasher(rules).hash(password or "x")
        return False
    try:
        return hasher(rules).verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str, rules: Securite) -> bool:
    """True when ``hashed`` was made with other argon2 parameters than the current ones."""
    try:
        return hasher(rules).check_needs_rehash(hashed)
    except InvalidHashError:
        return True


def new_token() -> tuple[str, str]:
    """(token given to the client, hash stored in the database)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode("utf-8")).hexdigest()


__all__ = [
    "WRONG",
    "ConnexionRefusee",
    "check_email",
    "check_password",
    "hash_password",
    "hasher",
    "needs_rehash",
    "new_token",
    "token_hash",
    "verify_password",
]
