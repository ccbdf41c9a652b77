"""Fetching the directory from the registry: the worker does it every
`directory_pull_seconds`, an administrator on demand (`comity directory pull`, the admin page)."""

from __future__ import annotations

import httpx

from comity.directory import service
from comity.nodes.runtime import Node


def pull_directory(
    node: Node, client: httpx.Client, url: str | None = None, actor: str = "system"
) -> bool:
    """Fetch the registry's signed directory and import it if newer. Returns True if changed;
    raises the import's refusal (a ComityError) or the client's `httpx.HTTPError`."""
    source = (url or node.settings.registry_url).rstrip("/")
    response = client.get(f"{source}/v1/directory", timeout=node.settings.delivery_timeout_seconds)
    response.raise_for_status()
    _, changed = service.import_signed(
        node.sessions, response.text.strip(), node.settings.registry_key, source, actor=actor
    )
    return changed
