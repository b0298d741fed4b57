"""The layers of the service, as the README draws them, held by the imports themselves:
no module imports a higher layer, the shared modules import none of the layers, and no
two modules of app/ import each other, however indirectly."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Top to bottom; a module may import its own layer and the layers below it.
LAYERS = (
    ("cli",),
    ("main", "api", "ui"),
    ("serving", "reporting"),
    ("training", "ingest", "auth", "demo"),
    ("db",),
)
SHARED = ("settings", "errors", "observability", "state_files")  # importable from anywhere


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, name: str) -> set[str]:
    """The app modules `path` imports (at any depth of the file, lazy imports too)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m == "app" or m.startswith("app.")}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {m for m in imports(path, name) if m in known and m != name}
        for name, path in known.items()
    }


def part(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def level(module: str) -> int | None:
    """The module's layer, 0 at the top; None for the shared modules and the package."""
    for depth, names in enumerate(LAYERS):
        if part(module) in names:
            return depth
    return None


def test_every_module_of_app_has_a_place_in_the_picture() -> None:
    placed = {n for names in LAYERS for n in names} | set(SHARED)
    assert {part(m) for m in modules() if part(m)} <= placed


def test_no_module_imports_a_higher_layer_and_shared_ones_import_no_layer() -> None:
    wrong = []
    for module, targets in graph().items():
        for target in targets:
            mine, theirs = level(module), level(target)
            if mine is None and theirs is not None:
                wrong.append(f"{module} (shared) -> {target}")
            elif mine is not None and theirs is not None and theirs < mine:
                wrong.append(f"{module} -> {target} (upward)")
    assert wrong == []


def test_no_import_cycle_inside_app() -> None:
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    assert cycles == []


def test_models_import_neither_the_service_nor_its_frameworks() -> None:
    banned = ("app", "fastapi", "sqlalchemy", "starlette", "pydantic")
    wrong = []
    for path in (ROOT / "models").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            wrong += [f"{path.name}: {n}" for n in names if n.split(".")[0] in banned]
    assert wrong == []
