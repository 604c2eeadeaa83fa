"""Accounts, passwords and sessions of the registry.

Passwords are hashed with argon2id (argon2-cffi defaults); a session token is 32 random
bytes of which only the SHA-256 is stored. After ``max_failures`` wrong passwords in a row
the account is locked for ``lockout``; an unknown e-mail gets the same message as a wrong
password. There is no default account: the first admin comes from the CLI.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from matching.registry.config import Securite
from matching.registry.errors import ConnexionRefusee, SaisieInvalide

_HASHER = PasswordHasher()
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']{1,190}\.[A-Za-z]{2,24}$")
WRONG = "adresse e-mail ou mot de passe incorrect"


def normalise_email(email: str) -> str:
    return str(email or "").strip().lower()


def check_email(email: str, field: str = "email") -> str:
    value = normalise_email(email)
    if not EMAIL_RE.match(value):
        raise SaisieInvalide([(field, f"adresse e-mail invalide : {value[:80]!r}")])
    return value


def check_password(password: str, rules: Securite) -> None:
    if not isinstance(password, str) or len(password) < rules.min_password_length:
        raise SaisieInvalide([(
            "mot_de_passe",
            f"trop court : au moins {rules.min_password_length} caractères",
        )])


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(hashed: str | None, password: str) -> bool:
    if not hashed:
        # same cost as a real check, so timing does not tell unknown accounts apart
        _HASHER.hash(password or "x")
        return False
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str]:
    """(token given to the client, hash stored in the database)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode("utf-8")).hexdigest()


def locked_message(until: datetime) -> str:
    return (
        "compte verrouillé après trop d'échecs de connexion : réessayer après "
        f"{until:%H:%M} (UTC) ou demander à un administrateur"
    )


__all__ = [
    "WRONG",
    "ConnexionRefusee",
    "check_email",
    "check_password",
    "hash_password",
    "locked_message",
    "new_token",
    "token_hash",
    "verify_password",
]
