"""The dependency direction written down in docs/architecture.md, checked on every run: a new
upward import or a new circle fails here with the line that made it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.architecture.imports import (
    LAYERS,
    Graph,
    build,
    component_of,
    cycles,
    layer_of,
    upward,
)

#: Longer modules than this say at their top why they are long.
MAX_LINES = 600
LENGTH_REASON = "Why this module is long:"


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build()


def test_no_module_imports_a_higher_layer(graph: Graph) -> None:
    assert upward(graph) == []


def test_no_import_circle_between_modules(graph: Graph) -> None:
    assert cycles(graph.edges) == []


def test_no_import_circle_between_packages(graph: Graph) -> None:
    """A package (a feature folder split by layer: its models with the store, its api and cli
    with the edges) never imports one that imports it back, however indirectly."""
    assert cycles(graph.components()) == []


def test_layers_are_assigned_as_documented() -> None:
    """The rules behind the checks, on the modules the architecture page names."""
    assert layer_of("comity.kit.db") == LAYERS.index("kit")
    assert layer_of("comity.law.evaluator") == LAYERS.index("pure core")
    assert layer_of("comity.evidence.manifest") == LAYERS.index("pure core")
    assert layer_of("comity.cases.models") == LAYERS.index("store")
    assert layer_of("comity.store.migrate") == LAYERS.index("store")
    assert layer_of("comity.cases.service") == LAYERS.index("service")
    assert layer_of("comity.cases.api") == LAYERS.index("edge")
    assert layer_of("comity.evidence.cli") == LAYERS.index("edge")
    assert layer_of("comity.web.pages.drafts") == LAYERS.index("edge")
    assert component_of("comity.cases.models") == component_of("comity.store.base")
    assert component_of("comity.cases.api") != component_of("comity.cases.service")


def test_the_check_sees_circles_and_upward_imports(tmp_path: Path) -> None:
    """The checker on a small tree that breaks every rule: a service importing an edge, two
    modules importing each other (one inside a function), two packages importing each other."""
    files = {
        "comity/__init__.py": "",
        "comity/kit/__init__.py": "",
        "comity/kit/clock.py": "",
        "comity/alpha/__init__.py": "",
        "comity/alpha/service.py": "from comity.alpha import api\nimport comity.beta.service\n",
        "comity/alpha/api.py": "def f():\n    from comity.alpha.service import x\n",
        "comity/beta/__init__.py": "",
        "comity/beta/service.py": "from comity.alpha.service import y\n",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    small = build(tmp_path)
    assert [p.split(" at ")[0] for p in upward(small)] == [
        "comity.alpha.service (service) imports comity.alpha.api (edge)"
    ]
    # alpha.service -> alpha.api -> (in a function) alpha.service; alpha.service <-> beta.service
    assert cycles(small.edges) == [
        ["comity.alpha.api", "comity.alpha.service", "comity.beta.service"]
    ]
    assert cycles(small.components()) == [
        ["comity.alpha[edge]", "comity.alpha[service]", "comity.beta[service]"]
    ]


def test_long_modules_say_why(graph: Graph) -> None:
    """No module over ~600 lines unless its docstring says why it is kept whole."""
    unexplained = []
    for module, path in sorted(graph.modules.items()):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_LINES and LENGTH_REASON not in text[:3000]:
            unexplained.append(f"{module}: {text.count(chr(10))} lines")
    assert unexplained == []
