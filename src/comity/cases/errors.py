"""Errors of requests that are not about the law: a request changed under a concurrent act."""

from __future__ import annotations

from comity.kit.errors import Conflict


class CaseChanged(Conflict):
    """Another act on the same request was committed while this one was applied: nothing of
    this act was kept; read the request again and decide on its new state."""

    code = "case_changed"
