"""The texts of the patient's papers, read out of the source: every `w("...")` call in
src/ketaplan/formats/, the side effects and ketaplan's default instructions. A test
checks each catalog (src/ketaplan/data/locale/<lang>.po) has every one.

    python tools/messages.py          # print them, one per line"""

from __future__ import annotations

import ast
from pathlib import Path

FORMATS = Path(__file__).resolve().parent.parent / "src" / "ketaplan" / "formats"


def messages() -> list[str]:
    found: dict[str, None] = {}
    for path in sorted(FORMATS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "w"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value)
    from ketaplan.core.clinic import Instructions
    from ketaplan.formats.page import SIDE_EFFECTS

    defaults = Instructions()
    for text in (*SIDE_EFFECTS, defaults.fasting, defaults.escort, defaults.emergency):
        found.setdefault(text)
    return list(found)


if __name__ == "__main__":
    print("\n".join(messages()))
