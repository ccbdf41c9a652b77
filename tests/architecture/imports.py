"""comity's import graph, read from the source with `ast` (nothing is imported).

Every `import` counts: at the top of a module, inside a function, under `TYPE_CHECKING` — an
import hidden in a function is still a dependency, and hiding one is how circles used to creep
in. Each module belongs to one layer (see `layer_of`); a feature folder is a vertical slice
whose `models.py` sits in the store layer, its `api.py`/`cli.py` in the edge layer and the rest
in the service layer (or the pure-core layer, for the modules listed in `PURE`).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

LAYERS = ("kit", "pure core", "store", "service", "edge")

# Modules of feature folders that are pure: no database, no network, no node.
PURE = {
    "comity.audit.checkpoint",
    "comity.directory.document",
    "comity.directory.lookup",
    "comity.evidence.blobstore",
    "comity.evidence.buffers",
    "comity.evidence.case_export",
    "comity.evidence.chunks",
    "comity.evidence.custody",
    "comity.evidence.errors",
    "comity.evidence.keys",
    "comity.evidence.manifest",
    "comity.evidence.package",
    "comity.evidence.verify",
}
PURE_PACKAGES = ("comity.law", "comity.protocol", "comity.documents")
EDGE_PACKAGES = ("comity.transport", "comity.web", "comity.cli", "comity.demo", "comity.edges")
EDGE_MODULES = ("api", "cli", "__main__")


def _under(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def layer_of(module: str) -> int:
    """0 kit, 1 pure core, 2 store, 3 service, 4 edge."""
    last = module.rsplit(".", 1)[-1]
    if module == "comity" or _under(module, ("comity.kit",)):
        return 0
    if _under(module, EDGE_PACKAGES) or last in EDGE_MODULES:
        return 4
    if module in PURE or _under(module, PURE_PACKAGES):
        return 1
    if _under(module, ("comity.store",)) or last == "models":
        return 2
    return 3


def component_of(module: str) -> str:
    """The unit of the package-level graph: a package, split by layer for feature folders."""
    parts = module.split(".")
    package = ".".join(parts[:2]) if len(parts) > 1 else module
    if _under(package, EDGE_PACKAGES) or package == "comity":
        return package
    if layer_of(module) == 2:
        # store/ imports every feature's models for the migrations: they are one layer.
        return "comity.store"
    return f"{package}[{LAYERS[layer_of(module)]}]"


@dataclass
class Graph:
    modules: dict[str, Path]
    edges: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # (importer, imported) -> line numbers, for messages
    lines: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))

    def components(self) -> dict[str, set[str]]:
        result: dict[str, set[str]] = defaultdict(set)
        for a, targets in self.edges.items():
            for b in targets:
                ca, cb = component_of(a), component_of(b)
                if ca != cb:
                    result[ca].add(cb)
        return result


def _modules(src: Path) -> dict[str, Path]:
    found = {}
    for path in sorted((src / "comity").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _targets(module: str, node: ast.Import | ast.ImportFrom, is_package: bool, known) -> list[str]:
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".")
            if not is_package:
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            origin = ".".join(base + ([node.module] if node.module else []))
        else:
            origin = node.module or ""
        names = [origin] + [f"{origin}.{alias.name}" for alias in node.names]
        names = [origin] + [n for n in names[1:] if n in known]
    result = []
    for name in names:
        if not name.startswith("comity"):
            continue
        while name not in known and "." in name:
            name = name.rsplit(".", 1)[0]
        # A package's `__init__` runs before any of its modules: an import of one's own
        # package (`from comity.documents import messages`) adds no dependency.
        if name in known and name != module and not module.startswith(name + "."):
            result.append(name)
    return result


def build(src: Path = SRC) -> Graph:
    graph = Graph(_modules(src))
    for module, path in graph.modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(module, node, path.name == "__init__.py", graph.modules):
                    graph.edges[module].add(target)
                    graph.lines[(module, target)].append(node.lineno)
    return graph


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    nodes = set(edges) | {t for ts in edges.values() for t in ts}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                member = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    member.append(top)
                    if top == node:
                        break
                if len(member) > 1:
                    found.append(sorted(member))
    return found


def upward(graph: Graph) -> list[str]:
    """Imports from a lower layer into a higher one, as readable lines."""
    problems = []
    for module, targets in sorted(graph.edges.items()):
        for target in sorted(targets):
            if layer_of(target) > layer_of(module):
                where = ",".join(str(n) for n in graph.lines[(module, target)])
                problems.append(
                    f"{module} ({LAYERS[layer_of(module)]}) imports {target} "
                    f"({LAYERS[layer_of(target)]}) at line {where}"
                )
    return problems


if __name__ == "__main__":
    g = build()
    for line in upward(g):
        print("UP", line)
    for c in cycles(g.edges):
        print("MODULE CYCLE", c)
    for c in cycles(g.components()):
        print("COMPONENT CYCLE", c)
