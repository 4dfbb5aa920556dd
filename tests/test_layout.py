"""The layout tells the architecture: the core runs without Flask, and no module outgrows ~400 lines."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "geo_urp"
CORE = ("loading", "locating", "reasoning", "acting", "reading", "layer_files", "simulate")


def test_the_core_imports_without_flask():
    modules = [m for package in CORE for m in _core_modules()[package]]
    code = ("".join(f"import {m}\n" for m in modules)
            + "import sys; print(sorted(m for m in sys.modules if m == 'flask' or m.startswith('flask.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"importing the core ({', '.join(CORE)}) loads Flask: {out}"


def _core_modules() -> dict[str, list[str]]:
    return {package: [f"geo_urp.{package}", *(f"geo_urp.{package}.{p.stem}" for p in sorted(
        (PACKAGE / package).glob("*.py")) if p.stem != "__init__")] for package in CORE}


def test_no_module_passes_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if "migrations" not in p.parts and (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}
