"""No import cycles among the catalog's modules, counting imports inside functions too.

A function-level import that only defers one half of a cycle leaves the modules tangled (each needs the other to
be understood, and changed), so it counts here like a top-level one. Reading the source with ast imports nothing.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str, root: Path = ROOT) -> dict[str, Path]:
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        names = []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names += [f"{node.module}.{alias.name}" for alias in node.names]  # a submodule, or a name in it
        graph[module] = {target for target in map(known, names) if target and target != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle found by a depth-first walk, as the path that closes it."""
    cycles, done, path = [], set(), []

    def visit(module: str) -> None:
        path.append(module)
        for target in sorted(graph[module]):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module)
    return cycles


def test_the_catalog_has_no_import_cycles():
    modules = _modules("catalog")
    assert "catalog.selectors" in modules and "catalog.scorecards.registry" in modules
    assert [" -> ".join(cycle) for cycle in _cycles(_imports(modules))] == []


def test_the_check_finds_a_cycle_hidden_in_a_function(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg import b\n")
    (tmp_path / "pkg" / "b.py").write_text("def later():\n    from pkg.a import thing\n")
    (tmp_path / "pkg" / "c.py").write_text("import pkg.a\n")

    graph = _imports(_modules("pkg", tmp_path))

    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}, "pkg.c": {"pkg.a"}}
    assert _cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]
