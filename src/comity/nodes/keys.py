"""Key pairs and their protection at rest.

Private keys are stored encrypted: AES-256-GCM under a key derived from the node passphrase
with scrypt (memory-hard), a fresh salt per key, and the key id as associated data so a
ciphertext cannot be moved to another key's row.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc.jwk import OKPKey

from comity.kit.errors import ConfigurationError

KeyUse = Literal["sig", "enc"]
CURVES: dict[str, Literal["Ed25519", "X25519"]] = {"sig": "Ed25519", "enc": "X25519"}
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class WrongPassphrase(ConfigurationError):
    code = "wrong_passphrase"


def generate_key(use: KeyUse, participant_id: str) -> OKPKey:
    kid = f"{participant_id}-{use}-{secrets.token_hex(6)}"
    return OKPKey.generate_key(CURVES[use], parameters={"kid": kid, "use": use}, private=True)


def public_jwk(key: OKPKey) -> dict[str, Any]:
    return dict(key.as_dict(private=False))


@functools.lru_cache(maxsize=64)
def _derive(passphrase: str, salt: bytes) -> bytes:
    # Cached per (passphrase, salt): a node derives its key-encryption key once per process,
    # not once per key; the private keys it protects are held in memory anyway.
    return hashlib.scrypt(
        passphrase.encode(),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=64 * 2**20,
        dklen=32,
    )


@dataclass(frozen=True)
class SealedPrivateKey:
    ciphertext: bytes
    salt: bytes


def new_salt() -> bytes:
    return os.urandom(16)


def seal_private_key(key: OKPKey, passphrase: str, salt: bytes | None = None) -> SealedPrivateKey:
    """Encrypt `key` under the passphrase. Keys made together may share a salt (one scrypt
    run); each has its own random nonce and its key id as associated data."""
    if not passphrase:
        raise ConfigurationError("a key passphrase is required (set COMITY_KEY_PASSPHRASE)")
    salt = salt or new_salt()
    nonce = os.urandom(12)
    plaintext = json.dumps(key.as_dict(private=True)).encode()
    ciphertext = AESGCM(_derive(passphrase, salt)).encrypt(nonce, plaintext, str(key.kid).encode())
    return SealedPrivateKey(ciphertext=nonce + ciphertext, salt=salt)


def open_private_key(kid: str, sealed: SealedPrivateKey, passphrase: str) -> OKPKey:
    if not passphrase:
        raise ConfigurationError("a key passphrase is required (set COMITY_KEY_PASSPHRASE)")
    nonce, ciphertext = sealed.ciphertext[:12], sealed.ciphertext[12:]
    try:
        plaintext = AESGCM(_derive(passphrase, sealed.salt)).decrypt(
            nonce, ciphertext, kid.encode()
        )
    except InvalidTag:
        raise WrongPassphrase(
            f"cannot unlock key {kid}: wrong passphrase (COMITY_KEY_PASSPHRASE)"
        ) from None
    return OKPKey.import_key(json.loads(plaintext))
