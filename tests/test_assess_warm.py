"""The assessor's warm-up (Assessor.prepare) reaches every compiled kernel it calls."""

import ast
from pathlib import Path

import skywarden.assess
from test_track_warm import signatures_after

ASSESS = Path(skywarden.assess.__file__).parent


def _kernels_called_from_python() -> set[str]:
    """``module.name`` of every ``@njit`` function of the package that plain Python code
    calls (kernels called only by other kernels are compiled into them)."""
    compiled: dict[str, str] = {}
    called: set[str] = set()
    for path in ASSESS.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            jit = any("njit" in ast.unparse(d) for d in node.decorator_list)
            if jit:
                compiled[node.name] = path.stem
                continue
            for call in ast.walk(node):
                if isinstance(call, ast.Call):
                    f = call.func
                    called.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
    return {f"{mod}.{name}" for name, mod in compiled.items() if name in called}


def test_prepare_compiles_every_kernel_the_assessment_calls():
    # checked in a fresh process: signatures persist in the process that compiled them
    kernels = _kernels_called_from_python()
    assert {"walks.march", "walks.cone", "walks.refine", "walks.bisect",
            "cone._query"} <= kernels
    counts = signatures_after("from skywarden.assess import Assessor; Assessor().prepare()",
                              kernels, "skywarden.assess")
    assert set(counts) == kernels
    assert all(n >= 1 for n in counts.values()), counts
