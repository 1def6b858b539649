"""The import rules of docs/architecture.md, read from the source with ``ast``.

1. Pure modules (the vault, the triage engine, the document builders and every module whose
   docstring says it is pure) import neither Flask (nor its extensions), SQLAlchemy nor
   ``csirt.db`` — neither themselves (anywhere in the file) nor through any csirt module they
   load (module-level imports, followed transitively).
2. View and API modules (every module that defines a ``Blueprint``) never import another
   package's models: they call that package's service.
3. Nothing imports a view module: ``create_app`` finds them through its explicit registry.

What breaks a rule today and must stay for now is in the allow-lists below, each with its reason;
an allow-list row that no longer matches anything fails too, so the lists only shrink.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "csirt"

# Pure by design (docs/architecture.md); any module whose docstring calls itself pure joins them.
PURE_PATTERNS = (
    r"csirt\.vault(\..+)?",
    r"csirt\.triage\.(engine|rules|deadlines|facts|vocabulary|damage|exposure)",
    r"csirt\.documents\.builders(\..+)?",
    r"csirt\.documents\.(blocks|facts|fields|frozen|guard|wording)",
)
PURE_DOCSTRING = re.compile(r"\(pure\)|^Pure[:.]|\bpure:|pure loaders", re.MULTILINE)
FORBIDDEN_IN_PURE = re.compile(r"^(flask|flask_\w+|wtforms|sqlalchemy|alembic)(\.|$)|^csirt\.db$")

# (view module, imported models module): why it stays for now.
VIEW_MODELS_ALLOWED: dict[tuple[str, str], str] = {
    ("csirt.records.views", "csirt.cases.models"): (
        "records' rows (data sets, evidence, notes, inquiries) are defined in cases/models.py"
    ),
    ("csirt.records.api", "csirt.cases.models"): (
        "records' rows (data sets, evidence, notes, inquiries) are defined in cases/models.py"
    ),
    ("csirt.triage.views", "csirt.cases.models"): "Case as the type of the need-to-know loader",
    ("csirt.triage.api", "csirt.cases.models"): "Case as the type of the need-to-know loader",
    ("csirt.teams.views", "csirt.cases.models"): "Case as the type of the need-to-know loader",
    ("csirt.teams.views", "csirt.auth.models"): "User (current_user, people pages) as a type",
    ("csirt.teams.api", "csirt.auth.models"): "User as the type of people in the payloads",
    ("csirt.intake.console", "csirt.auth.models"): "User (the officer) as a type",
}
# (importing module, view module): why it stays for now.
VIEW_IMPORT_ALLOWED: dict[tuple[str, str], str] = {}


@dataclass
class Module:
    name: str
    path: Path
    docstring: str
    imports: set[str] = field(default_factory=set)  # anywhere in the file
    top_level: set[str] = field(default_factory=set)  # loaded with the module
    blueprint: bool = False


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _names(module: str, is_package: bool, node: ast.AST) -> Iterator[str]:
    """Modules (and, for ``from x import y``, the candidate ``x.y``) an import statement names."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        source = _resolve(module, is_package, node)
        yield source
        yield from (f"{source}.{alias.name}" for alias in node.names)


def _top_level(tree: ast.Module) -> Iterator[ast.AST]:
    """Statements that run when the module is loaded (``if TYPE_CHECKING:`` bodies excluded)."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If):
            test = ast.unparse(node.test)
            if test.endswith("TYPE_CHECKING"):
                pending.extend(node.orelse)
                continue
            pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)
        else:
            yield node


@cache
def modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        name = _module_name(path)
        is_package = path.name == "__init__.py"
        module = Module(name, path, ast.get_docstring(tree) or "")
        for node in ast.walk(tree):
            module.imports.update(_names(name, is_package, node))
        for node in _top_level(tree):
            module.top_level.update(_names(name, is_package, node))
            # A view module is what create_app registers: it defines ``bp`` at module level
            # (``Blueprint(...)`` or ``ApiRoutes.blueprint(...)``); a helper that builds
            # blueprints for others (csirt.api.routes) is not one.
            if isinstance(node, ast.Assign | ast.AnnAssign) and any(
                isinstance(target, ast.Name) and target.id == "bp"
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            ):
                module.blueprint = True
        found[name] = module
    return found


def pure_modules() -> list[str]:
    names = modules()
    return sorted(
        name
        for name, module in names.items()
        if any(re.fullmatch(p, name) for p in PURE_PATTERNS)
        or PURE_DOCSTRING.search(module.docstring.split("\n\n")[0])
    )


def view_modules() -> list[str]:
    return sorted(name for name, module in modules().items() if module.blueprint)


def _loaded_with(name: str) -> dict[str, str]:
    """Every module loading ``name`` pulls in (csirt ones followed), with the csirt module that
    imports it."""
    known = modules()
    seen: dict[str, str] = {}
    pending = [name]
    while pending:
        current = pending.pop()
        for imported in sorted(known[current].top_level):
            if imported in seen:
                continue
            seen[imported] = current
            if imported in known and imported != name:
                pending.append(imported)
    return seen


def test_the_layers_are_found():
    pure = pure_modules()
    assert "csirt.vault.sealing" in pure
    assert "csirt.triage.engine" in pure
    assert "csirt.documents.builders.press_release" in pure
    assert "csirt.teams.rotation" in pure  # documented as pure in its docstring
    views = view_modules()
    assert "csirt.cases.views" in views
    assert "csirt.intake.api" in views
    assert len(views) >= 15


@pytest.mark.parametrize("name", pure_modules())
def test_pure_modules_import_no_flask_nor_database(name: str):
    module = modules()[name]
    direct = sorted(i for i in module.imports if FORBIDDEN_IN_PURE.match(i))
    assert not direct, f"{name} (pure) imports {direct}"
    pulled = {i: via for i, via in _loaded_with(name).items() if FORBIDDEN_IN_PURE.match(i)}
    assert not pulled, f"{name} (pure) pulls in " + ", ".join(
        f"{i} (through {via})" for i, via in sorted(pulled.items())
    )


def _foreign_models(view: str) -> set[str]:
    own = view.split(".")[1]
    found = set()
    for imported in modules()[view].imports:
        match = re.fullmatch(r"csirt\.(\w+)\.models", imported)
        if (match and match.group(1) != own) or imported == "csirt.models":
            found.add(imported)
    return found


def test_views_never_import_another_packages_models():
    broken = sorted(
        f"{view} imports {models}"
        for view in view_modules()
        for models in _foreign_models(view)
        if (view, models) not in VIEW_MODELS_ALLOWED
    )
    assert not broken, "call the owning package's service instead:\n" + "\n".join(broken)


def test_nothing_imports_a_view_module():
    views = set(view_modules())
    broken = sorted(
        f"{name} imports {imported}"
        for name, module in modules().items()
        for imported in module.imports & views
        if imported != name and (name, imported) not in VIEW_IMPORT_ALLOWED
    )
    assert not broken, (
        "views are reached only through create_app's registry; move what is shared into a "
        "service or a helper module:\n" + "\n".join(broken)
    )


def test_the_allow_lists_only_shrink():
    views = set(view_modules())
    stale = [
        f"VIEW_MODELS_ALLOWED {key}"
        for key in VIEW_MODELS_ALLOWED
        if key[0] not in views or key[1] not in _foreign_models(key[0])
    ] + [
        f"VIEW_IMPORT_ALLOWED {key}"
        for key in VIEW_IMPORT_ALLOWED
        if key[0] not in modules() or key[1] not in modules()[key[0]].imports
    ]
    assert not stale, "fixed: delete these allow-list rows:\n" + "\n".join(stale)


def test_the_registry_names_every_view_module_and_only_those():
    import csirt

    registered = set(csirt.SHARED_MODULES + csirt.INTAKE_MODULES + csirt.CONSOLE_MODULES)
    assert registered == set(view_modules())


MAX_MODULE_LINES = 800  # issue 17: past this, split the module by aggregate


def test_no_module_is_over_800_lines():
    long = sorted(
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    )
    assert not long, f"split these by aggregate (at most {MAX_MODULE_LINES} lines):\n" + "\n".join(
        long
    )
