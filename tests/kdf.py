"""Key derivation in the test suite: the production parameters, computed once per process.

A node seals its private keys, and each user's TOTP secret, under a key derived from the node
passphrase with scrypt (N=2**15, r=8: 32 MiB and a tenth of a second or more per fresh salt),
and hashes passwords with argon2id (3 passes over 64 MiB, for a hash and again for every
verification). The suite makes thousands of nodes, users and sign-ins, and spent a large part
of its time there. It never weakens those parameters; instead, for the whole session:

- the salt is pinned: `comity.nodes.keys.new_salt` and `comity.accounts.credentials.new_salt`
  return one fixed value, so each passphrase's key is derived once per process (real scrypt,
  production parameters) and comes from the modules' own `lru_cache` afterwards. Keys and
  secrets are still fresh, each sealed with its own nonce and its key id or user as associated
  data; the salt is stored as in production, so a node subprocess derives the same key from
  the row, and a wrong passphrase is still refused.
- argon2id is memoised: the same password hashes to the same real argon2id hash (made once
  per session), and the outcome of verifying a (hash, password) pair is computed once.

What stays exercised: the real KDF code paths with their real parameters, at least once per
process. What a test here cannot see: that two salts differ, or that two hashes of one
password differ — production makes both random (`os.urandom`, argon2's own salt).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

PINNED_SALT = bytes.fromhex("c0ffee" * 5 + "00")


class MemoisedHasher:
    """An argon2 `PasswordHasher` whose hashes and verifications are made once per input."""

    def __init__(self, hasher: Any) -> None:
        self._hasher = hasher
        self._hashes: dict[str, str] = {}
        self._verified: dict[tuple[str, str], bool | BaseException] = {}

    def hash(self, password: str, **kwargs: Any) -> str:
        if kwargs:
            return str(self._hasher.hash(password, **kwargs))
        if password not in self._hashes:
            self._hashes[password] = self._hasher.hash(password)
        return self._hashes[password]

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        key = (str(hash), str(password))
        if key not in self._verified:
            try:
                self._verified[key] = bool(self._hasher.verify(hash, password))
            except Exception as exc:
                self._verified[key] = exc
        outcome = self._verified[key]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hasher, name)


@contextmanager
def derived_once() -> Iterator[None]:
    from comity.accounts import credentials
    from comity.nodes import keys

    originals = (keys.new_salt, credentials.new_salt)
    with pytest.MonkeyPatch.context() as patch:
        # Every module holding one of the functions (`from ... import new_salt`) gets the pin;
        # one imported later imports the pinned function from its home module.
        for name, module in list(sys.modules.items()):
            if name == "comity" or name.startswith("comity."):
                for attribute, value in list(vars(module).items()):
                    if any(value is original for original in originals):
                        patch.setattr(module, attribute, pinned_salt)
        patch.setattr(credentials, "_hasher", MemoisedHasher(credentials._hasher))
        yield


def pinned_salt() -> bytes:
    return PINNED_SALT
