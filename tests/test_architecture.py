"""The package's import rules (docs/architecture.md), read from the source with an AST walk.

Every import of a hyperknob module counts: at the top of a module, inside a function, and under
``if TYPE_CHECKING:``. The layers: the foundation, then the core (space, storage, samplers,
schedulers, study), then what reads a study (report, executors), the KerasTuner facades
(hypermodel, oracles, tuners), the integrations, and the entry points on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hyperknob"

FOUNDATION = {"_types", "_text", "exceptions", "errors", "objective", "_fork_safety", "pareto", "constraints"}
CORE = {"space", "storage", "samplers", "schedulers", "study"}
# part -> the other parts it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    **{part: FOUNDATION for part in FOUNDATION},
    "space": FOUNDATION,
    "storage": FOUNDATION,
    "samplers": FOUNDATION | {"space"},
    "schedulers": FOUNDATION | {"space", "samplers"},
    "study": FOUNDATION | {"space", "storage", "samplers", "schedulers"},
    "report": FOUNDATION | CORE,
    "dashboard": FOUNDATION | CORE | {"report"},
    "executors": FOUNDATION | CORE,
    "testing": FOUNDATION | CORE,
    "hypermodel": FOUNDATION | {"space"},
    "oracles": FOUNDATION | CORE | {"hypermodel"},
    "tuners": FOUNDATION | CORE | {"report", "hypermodel", "oracles"},
    "integrations": FOUNDATION | CORE | {"report", "hypermodel", "oracles", "tuners"},
}
TOP = {"cli", "engine", "applications", "__init__"}  # entry points and KerasTuner's namespaces: anything
# Upward references that are names re-exported for KerasTuner's namespaces, resolved on first use.
EXCEPTIONS = {
    ("hyperknob.tuners", "hyperknob.integrations.sklearn.tuner"),  # kt.tuners.SklearnTuner
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, runtime_only: bool) -> set[str]:
    """The hyperknob modules ``path`` imports (with ``runtime_only``: not under TYPE_CHECKING)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if runtime_only and isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit_node(other)
                continue
            visit_node(child)

    def visit_node(node: ast.AST) -> None:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target == "hyperknob" or target.startswith("hyperknob."):
                for alias in node.names:
                    found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("hyperknob"))
        visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m != module}


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _part(module: str) -> str:
    rest = module.split(".")[1:]
    return rest[0] if rest else "__init__"


def test_every_part_of_the_package_is_in_a_layer():
    parts = {_part(m) for m in MODULES}
    assert parts <= set(ALLOWED) | TOP, f"parts with no rule in this test and docs/architecture.md: {parts - set(ALLOWED) - TOP}"


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_each_part_imports_only_the_layers_below_it(part):
    wrong = []
    for module, path in MODULES.items():
        if _part(module) != part:
            continue
        for target in _imports(path, runtime_only=False):
            other = _part(target)
            if other != part and other not in ALLOWED[part] and (module, target) not in EXCEPTIONS:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_module_imports_itself_back_at_run_time():
    """No cycle among the modules (type-only imports aside: an annotation may name a class of a
    module that uses this one)."""
    graph = {m: _imports(p, runtime_only=True) & MODULES.keys() for m, p in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            connect(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_core_never_imports_a_framework():
    frameworks = {"keras", "tensorflow", "torch", "jax", "sklearn", "dask", "distributed", "matplotlib"}
    wrong = []
    for module, path in MODULES.items():
        if _part(module) not in CORE | FOUNDATION:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            wrong += [f"{module} imports {n}" for n in names if n.split(".")[0] in frameworks]
    assert not wrong, "\n".join(wrong)


def test_no_module_is_much_longer_than_500_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 520}
    assert not long, f"split these by job (docs/architecture.md): {long}"
