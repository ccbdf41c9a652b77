"""Shared CLI plumbing: options, opening a node, printing errors without tracebacks."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer

from comity.kit.errors import ComityError
from comity.kit.settings import NodeSettings, load_settings
from comity.nodes.runtime import Node, open_node

P = ParamSpec("P")
T = TypeVar("T")

HomeOption = typer.Option(
    None, "--home", envvar="COMITY_HOME", help="Node folder (holds node.yaml)", show_default=False
)


def friendly(func: Callable[P, T]) -> Callable[P, T]:
    """Turn a ComityError into a one-line message and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except ComityError as exc:
            typer.secho(f"error: {exc.message}", err=True, fg=typer.colors.RED)
            raise typer.Exit(2) from None

    return wrapper


def settings_for(home: Path | None, **overrides: Any) -> NodeSettings:
    return load_settings(home, **overrides)


def node_for(home: Path | None) -> Node:
    return open_node(load_settings(home))


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
