"""Canonical JSON: the same object always gives the same bytes, so hashes are stable."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Serialise `value` with sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes | bytearray | memoryview | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


_JSON_SPECIAL = re.compile(rb'["\\\[\]{}]')


def json_depth_exceeds(raw: bytes, max_depth: int) -> bool:
    """True if the JSON text `raw` nests arrays and objects deeper than `max_depth`, found
    without parsing it (a parser recurses once per level). Brackets inside strings do not
    count. Cheap: when the text holds no more brackets than `max_depth` it cannot be too deep;
    otherwise only the quotes, backslashes and brackets are visited, once each."""
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_SPECIAL.finditer(raw):
        at = match.start()
        if at == escaped_at:
            continue
        char = raw[at]
        if in_string:
            if char == 0x5C:  # backslash: the next byte is escaped
                escaped_at = at + 1
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in (0x5B, 0x7B):
            depth += 1
            if depth > max_depth:
                return True
        elif char in (0x5D, 0x7D):
            depth -= 1
    return False
