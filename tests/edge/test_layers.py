"""The shape of ``edge/``: no import circle, no import from a lower layer to a higher one, and
nothing from the workstation side (``bench``, ``train``, ``convert``, TensorFlow).

Read from the source with ``ast`` (nothing is imported), so an import inside a function counts as
much as one at the top. An import under ``if TYPE_CHECKING:`` never runs: it counts for the
layers, not for circles.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

EDGE = Path(__file__).resolve().parents[2] / "edge"

# Lowest first. A module may import its own layer or a lower one. A package's ``__init__`` is
# named by the package (``edge.sources`` opens a source; ``edge.sources.base`` is a part).
LAYERS: tuple[tuple[str, ...], ...] = (
    # values, errors and small stdlib helpers that every layer may use
    (
        "edge.errors",
        "edge.types",
        "edge.labels",
        "edge.paths",
        "edge.fsio",
        "edge.ratelimit",
        "edge.cliargs",
        "edge.notify",
        "edge.timing",
        "edge.scoring",
    ),
    # the parts, each with its own config section where it has one
    (
        "edge.preprocess",
        "edge.faces",
        "edge.carry",
        "edge.backdrop",
        "edge.scan",
        "edge.tracking",
        "edge.smile",
        "edge.sinks",
        "edge.sources.",
        "edge.backends.",
    ),
    ("edge.config",),  # gathers the sections
    # built from the config: the source, the classifier, the frame pipeline
    ("edge.sources", "edge.backends", "edge.detection", "edge.pipeline"),
    # what the commands run
    (
        "edge.daemon",
        "edge.bench",
        "edge.bench_command",
        "edge.bench_report",
        "edge.selftest",
        "edge.tools",
    ),
    ("edge.cli", "edge.__main__"),
)
FOREIGN = ("bench", "train", "convert", "tensorflow", "keras", "tests")


def module_name(path: Path) -> str:
    parts = path.relative_to(EDGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(EDGE.rglob("*.py")) if p != EDGE / "__init__.py"}


def layer(name: str) -> int:
    """The layer of ``name``: its longest matching entry (``x.`` matches only below ``x``)."""
    best, rank = -1, -1
    for number, entries in enumerate(LAYERS):
        for entry in entries:
            hit = (
                name.startswith(entry)
                if entry.endswith(".")
                else (name == entry or name.startswith(entry + "."))
            )
            if hit and len(entry) > best:
                best, rank = len(entry), number
    if rank < 0:
        raise AssertionError(f"{name} is in no layer of tests/edge/test_layers.py: add it")
    return rank


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path) -> list[tuple[str, bool]]:
    """``(module, runs)`` for every import in ``path``; ``runs`` is False under TYPE_CHECKING."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, runs: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.body:
                    visit_one(sub, False)
                for sub in child.orelse:
                    visit_one(sub, runs)
            else:
                visit_one(child, runs)

    def visit_one(node: ast.AST, runs: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, runs) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.append((full if full in MODULES else node.module, runs))
        visit(node, runs)

    visit(ast.parse(path.read_text()), True)
    return found


def edges(name: str) -> list[tuple[str, bool]]:
    """The ``edge`` modules ``name`` imports, with the packages whose ``__init__`` that runs."""
    out = []
    for target, runs in imports(MODULES[name]):
        if not target.startswith("edge."):
            continue
        out.append((target, runs))
        parent = target.rpartition(".")[0]
        while parent != "edge" and not name.startswith(parent + ".") and name != parent:
            out.append((parent, runs))
            parent = parent.rpartition(".")[0]
    return [(t, runs) for t, runs in out if t != name and t in MODULES]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle in ``graph`` as a list of modules (first = last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := dfs(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := dfs(node)):
            return cycle
    return None


def runtime_graph() -> dict[str, set[str]]:
    return {name: {t for t, runs in edges(name) if runs} for name in MODULES}


def test_no_import_circle_in_edge() -> None:
    cycle = find_cycle(runtime_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_find_cycle_sees_a_circle() -> None:
    graph = runtime_graph()
    graph["edge.errors"] = graph["edge.errors"] | {"edge.cli"}  # cli imports errors
    assert find_cycle(graph) is not None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_down_the_layers(name: str) -> None:
    mine = layer(name)
    up = sorted({t for t, _ in edges(name) if layer(t) > mine})
    assert not up, f"{name} (layer {mine}) imports a higher layer: {up}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_edge_never_imports_the_workstation_side(name: str) -> None:
    bad = {target for target, _ in imports(MODULES[name]) if target.split(".")[0] in FOREIGN}
    assert not bad, f"{name} imports {sorted(bad)}"


def test_the_checks_see_a_workstation_import_and_an_upward_one(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from bench.score import ClipScore\n    import edge.cli\n")
    found = {target for target, _ in imports(module)}
    assert {"bench.score", "edge.cli"} <= found
    assert {t.split(".")[0] for t in found} & set(FOREIGN)
    assert layer("edge.cli") > layer("edge.scoring")
    assert layer("edge.bench") > layer("edge.pipeline")


def readme_edge_table() -> str:
    """The rows of README's ``edge/`` by role table."""
    text = (EDGE.parent / "README.md").read_text()
    start = text.index("| layer | path | what |")
    return text[start : text.index("\n\n", start)]


def test_the_readme_layout_table_names_every_module() -> None:
    table = readme_edge_table()
    entries = [p for p in EDGE.iterdir() if p.name not in ("__init__.py", "__pycache__")]
    for package in ("sources", "backends", "sinks", "sinks/http", "smile", "tools"):
        entries += [p for p in (EDGE / package).iterdir() if p.suffix == ".py"]
    missing = sorted(
        str(p.relative_to(EDGE))
        for p in entries
        if p.name != "__init__.py" and f"`{p.name}" not in table and f"{p.name}`" not in table
    )
    assert not missing, f"README's edge/ table does not name {missing}"
