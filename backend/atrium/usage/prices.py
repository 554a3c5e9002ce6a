"""The operator's price table: what a million tokens of each model cost.

`ATRIUM_MODEL_PRICES` holds the table as JSON, or the path of a JSON file (re-read when it changes, so
prices can be updated without a restart):

    {"gpt-4o": {"input": 2.5, "output": 10, "cached_input": 1.25}, "offline": {"input": 0, "output": 0}}

Prices are per million tokens, in whatever currency the operator keeps books in. `cached_input`
defaults to `input`. A model the table does not name has no cost (None): its tokens are still counted.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)
MILLION = Decimal(1_000_000)


class PriceTableError(ValueError):
    """The price table is malformed."""


@dataclass(frozen=True)
class Price:
    input: Decimal
    output: Decimal
    cached_input: Decimal

    def cost(self, *, input_tokens: int, output_tokens: int, cached_input_tokens: int) -> Decimal:
        """`input_tokens` includes the cached ones, as providers report them."""
        cached = min(max(cached_input_tokens, 0), max(input_tokens, 0))
        fresh = max(input_tokens, 0) - cached
        total = fresh * self.input + cached * self.cached_input + max(output_tokens, 0) * self.output
        return total / MILLION


def _amount(model: str, entry: dict[str, Any], key: str, default: Decimal | None) -> Decimal:
    value = entry.get(key)
    if value is None:
        if default is None:
            raise PriceTableError(f"model {model!r}: {key!r} is required")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PriceTableError(f"model {model!r}: {key!r} must be a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise PriceTableError(f"model {model!r}: {key!r} must be a number") from exc
    if not amount.is_finite() or amount < 0:
        raise PriceTableError(f"model {model!r}: {key!r} must be a non-negative number")
    return amount


def parse_price_table(raw: Any) -> dict[str, Price]:
    """The table from its JSON form; PriceTableError says what is wrong."""
    if not isinstance(raw, dict):
        raise PriceTableError("the price table must be a JSON object of model name -> prices")
    table = {}
    for model, entry in raw.items():
        if not isinstance(entry, dict):
            raise PriceTableError(f"model {model!r}: prices must be an object")
        unknown = set(entry) - {"input", "output", "cached_input"}
        if unknown:
            raise PriceTableError(f"model {model!r}: unknown keys {sorted(unknown)}")
        input_price = _amount(model, entry, "input", None)
        table[str(model)] = Price(
            input=input_price,
            output=_amount(model, entry, "output", None),
            cached_input=_amount(model, entry, "cached_input", input_price),
        )
    return table


class _Table:
    """The parsed table, cached; a file is read again when its modification time changes. A table that
    does not parse is logged and treated as empty (costs unknown) rather than failing runs."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[str, float] | None = None
        self.table: dict[str, Price] = {}

    def get(self) -> dict[str, Price]:
        setting = (getattr(settings, "ATRIUM_MODEL_PRICES", "") or "").strip()
        if not setting:
            return {}
        is_inline = setting.startswith("{")
        try:
            stamp = 0.0 if is_inline else os.stat(setting).st_mtime
        except OSError:
            logger.error("ATRIUM_MODEL_PRICES: cannot read %s; model costs are unknown", setting)
            return {}
        with self.lock:
            if self.key == (setting, stamp):
                return self.table
            try:
                text = setting if is_inline else Path(setting).read_text()
                self.table = parse_price_table(json.loads(text))
            except (ValueError, OSError) as exc:
                logger.error("ATRIUM_MODEL_PRICES is invalid (%s); model costs are unknown", exc)
                self.table = {}
            self.key = (setting, stamp)
            return self.table


_table = _Table()


def price_for(*names: str | None) -> Price | None:
    """The price of the first of `names` the table knows, tried as given and without a `provider:`
    prefix (`openai:gpt-4o` is priced as `gpt-4o`)."""
    table = _table.get()
    for name in names:
        if not name:
            continue
        for candidate in (name, name.split(":", 1)[-1]):
            if candidate in table:
                return table[candidate]
    return None
