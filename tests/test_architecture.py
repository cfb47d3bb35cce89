"""The structure a maintainer relies on: no import cycles inside the package, and the modules around
the mixin (surgery, callbacks, behaviour cloning) use its public extension API only."""

import ast
import pathlib
import re

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "sb3_inril"


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: pathlib.Path) -> set[str]:
    """Modules of the package imported at any depth, except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sb3_inril"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("sb3_inril"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_no_import_cycles():
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: {target for target in imports_of(path) if target in modules} for name, path in modules.items()}
    # Package __init__ files re-export their modules: an edge into a package is an edge into its __init__.
    cycles = []

    def walk(node: str, stack: list[str]) -> None:
        for target in graph[node]:
            if target in stack:
                cycle = stack[stack.index(target) :] + [target]
                if not any(part == "sb3_inril" for part in cycle):  # the top-level package only re-exports
                    cycles.append(" -> ".join(cycle))
            elif len(stack) < 12:
                walk(target, [*stack, target])

    for name in graph:
        walk(name, [name])
    assert not cycles, sorted(set(cycles))[:5]


def test_helpers_use_the_public_extension_api():
    private = re.compile(r"\bmodel\._(il_|n_|rl_|check)")
    for name in ("surgery.py", "callbacks.py", "behavior_cloning.py"):
        source = (PACKAGE / "common" / name).read_text()
        assert not private.findall(source), name


def test_demonstration_io_lies_below_the_mechanism():
    """sb3_inril.demos imports nothing of the mechanism (sb3_inril.common), and the mechanism's
    modules hold no demonstration I/O of their own (only the deprecated shims of the old paths)."""
    for path in (PACKAGE / "demos").rglob("*.py"):
        mechanism = sorted(target for target in imports_of(path) if target.startswith("sb3_inril.common"))
        assert not mechanism, (path.name, mechanism)
    for name in (
        "demonstrations",
        "loaders",
        "demo_buffer",
        "demo_replay",
        "chunking",
        "hdf5_store",
        "parallel",
        "validation",
    ):
        source = (PACKAGE / "common" / f"{name}.py").read_text()
        assert "moved_module_getattr" in source and len(source.splitlines()) < 12, name
