"""The import graph of the three packages: no cycles, no private names across modules.

The graph is read from the source with `ast` (nothing is imported or run): every ``import``
and ``from ... import`` statement, at module level, under ``if TYPE_CHECKING``, or inside a
function, and every ``importlib.import_module("literal")``. A lazy import inside a function
is still an edge: it only moves the cycle to run time.

How an import statement becomes edges:

- ``import a.b.c`` is an edge to ``a.b.c``; ``from a.b import c`` is an edge to ``a.b.c`` when
  that is a module file, otherwise (``c`` is a name defined in ``a.b``) to ``a.b``.
- A package's ``__init__`` is a module like any other: ``pkg/__init__`` importing ``pkg.sub``
  is an edge, and so is ``pkg.sub`` taking a name from ``pkg`` (``from pkg import NAME``). The
  two together are a cycle and are reported: ``pkg.sub`` then runs against a half-initialised
  ``pkg``.
- The parent packages Python initialises on the way to a module (``import a.b.c`` runs
  ``a/__init__`` and ``a/b/__init__`` first) are *not* edges. They are already in
  ``sys.modules`` when a sibling runs, so they cannot deadlock, and counting them would make
  every package whose ``__init__`` re-exports a submodule one big cycle with all its members.

Private names: no module takes a ``_name`` (not a dunder) from another module, whether by
``from m import _name``, ``import m`` then ``m._name``, or a string naming it for
``importlib``; nor from another distribution (``stpipe._cmdline``). A private *module* is
fine inside its own package (``pkg/a.py`` importing ``pkg._impl``), not from outside it.
`PRIVATE_ALLOWED` lists the exceptions, each with its reason.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import csst_crds_plugin

ROOT = Path(csst_crds_plugin.__file__).parent.parent
PACKAGES = ("csst_crds_plugin", "datamodels", "steps")

#: Private names (or private modules from outside their package) a module may still use,
#: as ``(importer, dotted reference): reason``. The test fails on an entry no longer needed.
PRIVATE_ALLOWED: dict[tuple[str, str], str] = {
    ("csst_crds_plugin.stpipe_integration._stpipe_compat", "stpipe._cmdline"): (
        "the one documented stpipe shim; tests/test_steps/test_stpipe_compat.py fails loudly "
        "when stpipe changes"
    ),
}


# -- the graph -----------------------------------------------------------------------------


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Return ``{dotted module name: source file}`` of every module under ``packages``."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


@dataclass(frozen=True)
class Reference:
    """One dotted name a module imports (``a.b`` or ``a.b.NAME``), with its line."""

    importer: str
    dotted: str
    line: int


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    anchor = module.split(".") if is_package else module.split(".")[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join(anchor + ([node.module] if node.module else []))


def _literal_import_module(node: ast.Call) -> str | None:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name == "import_module" and node.args and isinstance(node.args[0], ast.Constant):
        value = node.args[0].value
        return value if isinstance(value, str) else None
    return None


@functools.cache
def _nodes(path: Path) -> tuple[ast.AST, ...]:
    """Every node of a source file (parsed once per run)."""
    return tuple(ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))))


def references(module: str, path: Path) -> Iterator[Reference]:
    """Yield every dotted name ``module`` imports, wherever the import statement is."""
    for node in _nodes(path):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Reference(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path.name == "__init__.py", node)
            for alias in node.names:
                dotted = base if alias.name == "*" else f"{base}.{alias.name}"
                yield Reference(module, dotted, node.lineno)
        elif isinstance(node, ast.Call) and (name := _literal_import_module(node)):
            yield Reference(module, name, node.lineno)


def resolve(dotted: str, modules: dict[str, Path]) -> str | None:
    """The longest module of ``modules`` that ``dotted`` starts with (None: none of ours)."""
    while dotted and dotted not in modules:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Return ``{module: modules it imports}`` over the modules of ``packages``."""
    modules = module_files(root, packages)
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for module, path in modules.items():
        for ref in references(module, path):
            target = resolve(ref.dotted, modules)
            if target is not None and target != module:
                graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of two or more modules (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def _cycle_report(found: list[list[str]], graph: dict[str, set[str]]) -> str:
    lines = []
    for component in found:
        members = set(component)
        lines.append("cycle: " + " <-> ".join(component))
        lines.extend(f"    {m} imports {', '.join(sorted(graph[m] & members))}"
                     for m in component)
    return "\n".join(lines)


# -- private names -------------------------------------------------------------------------


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _ours(dotted: str, modules: dict[str, Path]) -> bool:
    return dotted.split(".")[0] in modules  # a top-level package is a module of its own


@functools.cache
def _installed_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def _is_module(dotted: str, modules: dict[str, Path]) -> bool:
    return dotted in modules if _ours(dotted, modules) else _installed_module(dotted)


def private_use(importer: str, dotted: str, modules: dict[str, Path]) -> bool:
    """Whether ``importer`` reaching ``dotted`` uses something private to another module.

    A private module (``pkg._impl``) is fine from inside ``pkg``; a private name
    (``mod._helper``) only inside ``mod`` itself. Names of other distributions are never ours.
    """
    parts = dotted.split(".")
    if not _ours(dotted, modules):
        return any(_private(part) for part in parts[1:])
    for i in range(1, len(parts)):
        prefix = ".".join(parts[: i + 1])
        owner = ".".join(parts[:i])
        is_module = _is_module(prefix, modules)
        if _private(parts[i]):
            inside = importer == owner or importer.startswith(owner + ".")
            if not (inside if is_module else importer == owner):
                return True
        if not is_module:
            return False
    return False


def _module_aliases(module: str, path: Path, modules: dict[str, Path]) -> dict[str, str]:
    """``{local name: module}`` for names that ``import`` statements bind to modules."""
    aliases = {}
    for node in _nodes(path):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path.name == "__init__.py", node)
            for alias in node.names:
                if alias.name != "*" and _is_module(f"{base}.{alias.name}", modules):
                    aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
    return aliases


def _attribute_references(module: str, path: Path,
                          modules: dict[str, Path]) -> Iterator[Reference]:
    """``module_alias.a._b`` chains: private things reached through an imported module."""
    aliases = _module_aliases(module, path, modules)
    attributes = [node for node in _nodes(path) if isinstance(node, ast.Attribute)]
    inner = {id(node.value) for node in attributes}
    for node in attributes:
        if id(node) in inner:
            continue  # only the whole chain a.b._c: private_use checks each of its parts
        chain: list[str] = []
        value: ast.expr = node
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name) and value.id in aliases:
            dotted = ".".join([aliases[value.id], *reversed(chain)])
            yield Reference(module, dotted, node.lineno)


_DOTTED = re.compile(r"[A-Za-z_]\w*(\.\w+)+")


def _string_references(module: str, path: Path,
                       modules: dict[str, Path]) -> Iterator[Reference]:
    """Strings naming a module, as given to ``importlib.import_module`` (``"pkg._impl"``)."""
    for node in _nodes(path):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and _DOTTED.fullmatch(node.value)
                and _is_module(node.value.split(".")[0], modules)
                and _is_module(node.value.rpartition(".")[0], modules)):
            yield Reference(module, node.value, node.lineno)


def private_violations(root: Path, packages: tuple[str, ...]) -> dict[tuple[str, str], int]:
    """Return ``{(importer, dotted reference): line}`` of every private use across modules."""
    modules = module_files(root, packages)
    found = {}
    for module, path in modules.items():
        for ref in [*references(module, path), *_attribute_references(module, path, modules),
                    *_string_references(module, path, modules)]:
            if private_use(module, ref.dotted, modules):
                found.setdefault((module, ref.dotted), ref.line)
    return found


# -- the tests -----------------------------------------------------------------------------


def test_the_three_packages_have_no_import_cycle() -> None:
    graph = import_graph(ROOT, PACKAGES)
    assert len(graph) > 100, "the graph should hold every module of the three packages"
    found = cycles(graph)
    assert not found, "import cycles (each line: a module and what it imports):\n" + (
        _cycle_report(found, graph))


def test_no_module_imports_a_private_name_of_another() -> None:
    found = private_violations(ROOT, PACKAGES)
    unexpected = {key: line for key, line in found.items() if key not in PRIVATE_ALLOWED}
    assert not unexpected, "private names used across modules:\n" + "\n".join(
        f"{module} (line {line}) uses {dotted}" for (module, dotted), line in sorted(
            unexpected.items()))
    stale = sorted(set(PRIVATE_ALLOWED) - set(found))
    assert not stale, f"allow-list entries no longer needed: {stale}"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_detector_finds_a_three_module_cycle_through_lazy_and_type_only_imports(
        tmp_path: Path) -> None:
    _write(tmp_path, {
        "toy/__init__.py": "from toy.a import A\n",
        "toy/a.py": "import toy.b\nA = 1\n",
        "toy/b.py": "def f():\n    from toy import c\n    return c\n",
        "toy/c.py": ("from typing import TYPE_CHECKING\n"
                     "if TYPE_CHECKING:\n    from toy.a import A\n"),
        "toy/d.py": "import toy.a\nimport importlib\nimportlib.import_module('toy.e')\n",
        "toy/e.py": "from toy.d import X\n",
        "toy/f.py": "from toy.c import NAME\nimport numpy\n",
    })
    graph = import_graph(tmp_path, ("toy",))
    assert graph["toy.b"] == {"toy.c"}
    assert graph["toy.f"] == {"toy.c"}
    assert cycles(graph) == [["toy.a", "toy.b", "toy.c"], ["toy.d", "toy.e"]]


def test_package_init_edges_a_submodule_taking_a_name_from_its_package_is_a_cycle(
        tmp_path: Path) -> None:
    _write(tmp_path, {
        "toy/__init__.py": "from toy.sub import run\nLIMIT = 3\n",
        "toy/sub.py": "from toy import LIMIT\ndef run():\n    return LIMIT\n",
        "toy/other.py": "import toy.sub\nfrom toy.inner import deep\n",
        "toy/inner/__init__.py": "from toy.inner.deep import VALUE\n",
        "toy/inner/deep.py": "import toy.other\nVALUE = 1\n",
    })
    graph = import_graph(tmp_path, ("toy",))
    # the implicit initialisation of the parent packages is no edge: toy.other's imports run
    # toy/__init__, yet toy.other is in a cycle only through its explicit import of toy.inner.deep
    assert cycles(graph) == [["toy", "toy.sub"], ["toy.inner.deep", "toy.other"]]


def test_the_private_name_rule_on_a_throwaway_package(tmp_path: Path) -> None:
    _write(tmp_path, {
        "toy/__init__.py": "from toy._impl import run\n",
        "toy/_impl.py": "_SECRET = 1\ndef run():\n    return _SECRET\n",
        "toy/api.py": "from toy._impl import _SECRET\nimport toy._impl as impl\nX = impl._SECRET\n",
        "toy/inner/__init__.py": "",
        "toy/inner/use.py": "from toy import _impl\nfrom toy._impl import run\n",
        "toy/dunder.py": ("from toy._impl import __doc__\nfrom os import path\n"
                          "Y = path._joinrealpath\n"),
        "toy/shim.py": ("import importlib\nWHERE = ('importlib._bootstrap', 'importlib.util')\n"
                        "M = [importlib.import_module(n) for n in WHERE]\n"
                        "HELP = 'see importlib._bootstrap for details'\nOWN = 'toy._impl'\n"),
    })
    assert set(private_violations(tmp_path, ("toy",))) == {
        ("toy.api", "toy._impl._SECRET"),
        ("toy.dunder", "os.path._joinrealpath"),
        ("toy.shim", "importlib._bootstrap"),
    }
