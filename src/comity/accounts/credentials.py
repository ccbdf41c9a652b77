"""Password hashes (argon2id), TOTP codes (RFC 6238) and the TOTP secret at rest.

Pure functions: no database. The TOTP secret is sealed like a private key (`nodes/keys.py`):
AES-256-GCM under a key derived from the node passphrase with scrypt, a fresh salt per user,
and the user's id as associated data so a sealed secret cannot be moved to another user.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from datetime import datetime

import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from comity.kit.errors import ComityError, ConfigurationError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
# A code from the step before or after the current one is accepted (clock drift of a phone).
TOTP_WINDOW = 1

# argon2id with the RFC 9106 "second recommended" profile: 3 passes over 64 MiB, 4 lanes.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4, type=Type.ID)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a login takes as long either way.
    Made at the first login, not at import: one argon2id hash needs 64 MiB, which a process
    that never checks a password (a worker, the CLI, a benchmark) should not spend."""
    return _hasher.hash(secrets.token_urlsafe(16))


class WeakPassword(ComityError):
    code = "weak_password"


def check_password_policy(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if username and username.casefold() in password.casefold():
        raise WeakPassword("a password must not contain the user name")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; with no hash (unknown user) it still spends the time."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_totp_secret() -> str:
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=issuer
    )


def totp_code(secret: str, at: datetime) -> str:
    """The code for the step containing `at` (tests and enrolment checks use it)."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).at(at)


def matching_totp_step(secret: str, code: str, at: datetime, last_step: int) -> int | None:
    """The step whose code equals `code`, within the window and after `last_step` (a code is
    used once), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
    now_step = int(at.timestamp()) // TOTP_STEP_SECONDS
    found = None
    for step in range(now_step - TOTP_WINDOW, now_step + TOTP_WINDOW + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected, code) and step > last_step:
            found = step
    return found


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def new_salt() -> bytes:
    """A fresh scrypt salt for one sealed secret (the test suite pins it, see tests/kdf.py)."""
    return os.urandom(16)


@functools.lru_cache(maxsize=256)
def _derive(passphrase: str, salt: bytes) -> bytes:
    # Cached: scrypt is deliberately slow, and a login unseals the secret every time.
    return hashlib.scrypt(
        passphrase.encode(), salt=salt, n=2**15, r=8, p=1, maxmem=64 * 2**20, dklen=32
    )


def seal_totp_secret(secret: str, user_id: str, passphrase: str) -> tuple[bytes, bytes]:
    """(ciphertext, salt) of `secret` for storing in the user's row."""
    if not passphrase:
        raise ConfigurationError("a key passphrase is required (set COMITY_KEY_PASSPHRASE)")
    salt, nonce = new_salt(), os.urandom(12)
    sealed = AESGCM(_derive(passphrase, salt)).encrypt(
        nonce, secret.encode(), f"totp:{user_id}".encode()
    )
    return nonce + sealed, salt


def open_totp_secret(ciphertext: bytes, salt: bytes, user_id: str, passphrase: str) -> str:
    try:
        plain = AESGCM(_derive(passphrase, salt)).decrypt(
            ciphertext[:12], ciphertext[12:], f"totp:{user_id}".encode()
        )
    except InvalidTag:
        raise ConfigurationError(
            "cannot unlock a TOTP secret: wrong node passphrase (COMITY_KEY_PASSPHRASE)"
        ) from None
    return plain.decode()
