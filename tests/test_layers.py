"""The stages import downward only: the lower layers (geo, sources, lake) never import
the science, the validation, the publishing or the service above them, so a shared
helper lives below every stage that uses it (a polygon the climatology and the map
repair both need is in ``geo``, not in ``analysis``)."""

from __future__ import annotations

import ast
from pathlib import Path

import truceline

PACKAGE = Path(truceline.__file__).parent
LOWER = ("geo", "sources", "lake")
UPPER = ("analysis", "validation", "publish", "service", "cli", "pipeline", "api",
         "demo", "reports")


def _imports(path: Path) -> set[str]:
    """Every ``truceline.X`` module a file imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.split(".")[0] == "truceline"}


def test_the_lower_layers_never_import_the_stages_above_them() -> None:
    wrong = sorted(f"{path.relative_to(PACKAGE)} imports {module}"
                   for layer in LOWER for path in (PACKAGE / layer).rglob("*.py")
                   for module in _imports(path)
                   if len(module.split(".")) > 1 and module.split(".")[1] in UPPER)
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from truceline.analysis.baseline import X\n")
    assert _imports(f) == {"truceline.analysis.baseline"}
