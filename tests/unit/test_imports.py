"""Every library module imports on its own, first, in a fresh interpreter: an import cycle (the
definitions read tags, the HTTP core imports the definitions) shows here, not in whichever
process happens to import the modules in the wrong order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules() -> list[str]:
    out = []
    for path in sorted((ROOT / "eventsync").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def test_every_library_module_imports_first_on_its_own() -> None:
    # One interpreter; before each module, every eventsync module is forgotten (third-party ones
    # stay loaded): the order of first imports is what a cycle depends on.
    script = (
        "import importlib, sys\n"
        "bad = []\n"
        "for name in sys.argv[1:]:\n"
        "    for m in [m for m in sys.modules if m == 'eventsync' or m.startswith('eventsync.')]:\n"
        "        del sys.modules[m]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as err:\n"
        "        bad.append(f'{name}: {err}')\n"
        "print('\\n'.join(bad))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script, *_modules()], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.strip() == "", ran.stdout
