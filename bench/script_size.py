"""Count each workflow script's own statements (the thin-script budget: at most 25).

Every ``ast.stmt`` node counts (imports, assignments, ``with``/``for``/``if`` and each statement in their
bodies, function definitions and their bodies), except the module docstring.

    python bench/script_size.py [--max 25]
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "workflow" / "scripts"


def own_statements(path: Path) -> int:
    """Number of statements in a script, its module docstring aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    return sum(isinstance(n, ast.stmt) for top in body for n in ast.walk(top))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max", type=int, default=25)
    args = ap.parse_args(argv)
    sizes = sorted(((own_statements(p), p.name) for p in SCRIPTS.glob("*.py")), reverse=True)
    for n, name in sizes:
        print(f"{n:4d}  {name}{'  > ' + str(args.max) if n > args.max else ''}")
    return 1 if sizes and sizes[0][0] > args.max else 0


if __name__ == "__main__":
    sys.exit(main())
