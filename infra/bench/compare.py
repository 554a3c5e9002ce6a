"""Print ours, theirs and the our/their ratios of two bench.py JSON lines, as one JSON line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def ratios(ours: Any, theirs: Any) -> Any:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        skip = ("n", "target", "durability", "runs_per_s_windows")
        return {k: ratios(ours[k], theirs[k]) for k in ours if k in theirs and k not in skip}
    if isinstance(ours, int | float) and isinstance(theirs, int | float) and theirs:
        return round(ours / theirs, 3)
    return None


def main() -> None:
    ours, theirs = (json.loads(Path(path).read_text().strip().splitlines()[-1]) for path in sys.argv[1:3])
    print(json.dumps({"ours": ours, "theirs": theirs, "ratio_ours_over_theirs": ratios(ours, theirs)}))


if __name__ == "__main__":
    main()
