"""Shared CLI plumbing: options, opening a node, the actor a command is audited as, printing
errors without tracebacks. Every feature's `cli.py` uses it; `cli/main.py` assembles them."""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from comity.kit.errors import ComityError, ConfigurationError
from comity.kit.settings import NodeSettings, load_settings
from comity.nodes.runtime import Node, open_node

if TYPE_CHECKING:
    from comity.directory.document import Directory

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


@contextmanager
def opened(home: Path | None) -> Iterator[Node]:
    """The node at `home`, open for the length of the `with` block and closed after it."""
    node = open_node(load_settings(home))
    try:
        yield node
    finally:
        node.close()


def login() -> str:
    """The operating-system account that runs the command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container without /etc/passwd entry)
        return "unknown"


def actor() -> str:
    """Who a command is audited as: `cli:` and the operating-system account that ran it (the
    command line has no signed-in user; the account is what an auditor can trace)."""
    return f"cli:{login()}"


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


# The scenario parties' directory shipped with the examples (`comity demo directory` writes it).
EXAMPLE_DIRECTORY = "examples/directory/scenario.yaml"


class NoDirectoryGiven(ConfigurationError):
    """A command that reads the law needs a directory: a node's, or a file given with
    --directory. Nothing is assumed in their place."""

    status_code = 422
    code = "no_directory_given"


def node_directory(home: Path | None) -> tuple[Directory, str]:
    """The current directory of the node at `home` (or COMITY_HOME, or the current folder) and
    its participant id; without a node there, an error saying what to pass instead."""
    from comity.directory import service as directory_service

    settings = load_settings(home)
    if not settings.participant_id:
        raise NoDirectoryGiven(
            f"no --directory and no node at {settings.home} to take the directory from: pass"
            f" --directory FILE (e.g. --directory {EXAMPLE_DIRECTORY}, the scenario parties)"
            " or run it with --home NODE"
        )
    with opened(home) as node, node.sessions() as session:
        return directory_service.current(session), node.participant_id
