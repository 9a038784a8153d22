"""The assessor's warm-up (Assessor.prepare) reaches every compiled kernel it calls."""

import ast
import subprocess
import sys
from pathlib import Path

import skywarden.assess

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
    code = (
        "import importlib\n"
        "from skywarden.assess import Assessor\n"
        "Assessor().prepare()\n"
        f"for name in {sorted(kernels)!r}:\n"
        "    mod, fn = name.split('.')\n"
        "    f = getattr(importlib.import_module('skywarden.assess.' + mod), fn)\n"
        "    print(name, len(f.signatures))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    counts = dict(line.split() for line in out if line)
    assert set(counts) == kernels
    assert all(int(n) >= 1 for n in counts.values()), counts
