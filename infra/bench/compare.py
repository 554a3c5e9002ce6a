"""Print ours, theirs and the our/their ratios of two bench.py JSON lines, as one JSON line."""

from __future__ import annotations

import json
import sys
from typing import Any


def ratios(ours: Any, theirs: Any) -> Any:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return {k: ratios(ours[k], theirs[k]) for k in ours if k in theirs and k not in ("n", "target", "durability")}
    if isinstance(ours, int | float) and isinstance(theirs, int | float) and theirs:
        return round(ours / theirs, 3)
    return None


def main() -> None:
    ours = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
    theirs = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
    print(json.dumps({"ours": ours, "theirs": theirs, "ratio_ours_over_theirs": ratios(ours, theirs)}))


if __name__ == "__main__":
    main()
