"""Users, roles and hashed tokens of a cache's console (``config/<obs>/users.json``).

A user has a name, roles (``submit``: deliver references; ``activate``: make a context
operational; ``bad``: mark and unmark bad files) and a token. Only the SHA-256 of a token is
kept; tokens are 32 random bytes, so a plain hash cannot be reversed by guessing. A token is
shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from csst_crds_plugin.cache.layout import CacheLayout
from csst_crds_plugin.errors import ConfigurationError, CsstCrdsError

__all__ = ["ROLES", "USERS_NAME", "User", "UserError", "add_user", "authenticate",
           "list_users", "remove_user", "set_roles"]

USERS_NAME = "users.json"
ROLES = ("submit", "activate", "bad")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


class UserError(CsstCrdsError, ValueError):
    """A user command was given a bad name or role, or names an unknown user."""


@dataclass(frozen=True, slots=True)
class User:
    """A console user."""

    name: str
    roles: tuple[str, ...]
    created: str = ""

    def may(self, role: str) -> bool:
        """Return True when the user has `role`."""
        return role in self.roles


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _read(layout: CacheLayout) -> dict[str, dict[str, object]]:
    path = layout.config_dir / USERS_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise ConfigurationError(f"{path}: not valid JSON ({exc}); fix or remove it and add "
                                 "the users again with `csst-crds users add`") from exc
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise ConfigurationError(f"{path}: expected {{\"users\": {{name: {{...}}}}}}")
    return users


def _write(layout: CacheLayout, users: dict[str, dict[str, object]]) -> None:
    text = json.dumps({"users": users}, indent=2, sort_keys=True) + "\n"
    layout.write_bytes(layout.config_dir / USERS_NAME, text.encode("utf-8"))


def _roles(roles: Iterable[str]) -> list[str]:
    found = sorted({r.strip().lower() for r in roles if r.strip()})
    unknown = [r for r in found if r not in ROLES]
    if unknown:
        raise UserError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    return found


def _user(name: str, record: dict[str, object]) -> User:
    roles = record.get("roles", [])
    return User(name, tuple(str(r) for r in roles) if isinstance(roles, list) else (),
                str(record.get("created", "")))


def add_user(layout: CacheLayout, name: str, roles: Iterable[str], *,
             replace: bool = False) -> str:
    """Add `name` with `roles` (or give it a new token with `replace`); return its token."""
    if not _NAME.fullmatch(name):
        raise UserError(f"user name {name!r}: use a letter then letters, digits, '_', '.' or "
                        "'-' (at most 64)")
    wanted = _roles(roles)
    token = secrets.token_urlsafe(32)
    with layout.config_lock():
        users = _read(layout)
        if name in users and not replace:
            raise UserError(f"user {name!r} exists; `csst-crds users token {name}` gives it a "
                            "new token, `csst-crds users roles` changes its roles")
        if replace and name not in users:
            raise UserError(f"no user {name!r}; add it with `csst-crds users add {name} "
                            "--role ROLE`")
        old = users.get(name, {})
        users[name] = {"roles": wanted or list(_user(name, old).roles),
                       "token_sha256": _hash(token),
                       "created": old.get("created") or
                       datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        _write(layout, users)
    return token


def set_roles(layout: CacheLayout, name: str, roles: Iterable[str]) -> User:
    """Replace the roles of `name`."""
    wanted = _roles(roles)
    with layout.config_lock():
        users = _read(layout)
        if name not in users:
            raise UserError(f"no user {name!r} in {layout.config_dir / USERS_NAME}")
        users[name]["roles"] = wanted
        _write(layout, users)
        return _user(name, users[name])


def remove_user(layout: CacheLayout, name: str) -> None:
    """Remove `name`; its token stops working at once."""
    with layout.config_lock():
        users = _read(layout)
        if name not in users:
            raise UserError(f"no user {name!r} in {layout.config_dir / USERS_NAME}")
        del users[name]
        _write(layout, users)


def list_users(layout: CacheLayout) -> list[User]:
    """Every user, by name."""
    return [_user(name, record) for name, record in sorted(_read(layout).items())]


def authenticate(layout: CacheLayout, token: str | None) -> User | None:
    """Return the user whose token this is, or None."""
    if not token:
        return None
    digest = _hash(token.strip())
    found = None
    for name, record in _read(layout).items():
        if hmac.compare_digest(str(record.get("token_sha256", "")), digest):
            found = _user(name, record)
    return found
