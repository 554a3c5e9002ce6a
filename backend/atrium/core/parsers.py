"""The request-body parser of both HTTP APIs: what may not come in, refused at the door.

Everything stored must be servable back, so a value the database or the encoders on the way out
cannot hold is refused here, before any row is written, with a 4xx naming the problem:

- a body over `ATRIUM_MAX_BODY_BYTES`: 413 (also answered before the body is read, `config/asgi.py`);
- JSON nested deeper than `ATRIUM_MAX_JSON_DEPTH`: 422 (orjson cannot encode past 254 levels and
  Python's decoder past about 1000, so a deep value stored once would fail every read of it);
- integers beyond ±(2**53 - 1): 422 (JavaScript clients cannot hold them exactly, and past 64 bits
  the encoders disagree);
- a NUL character in text or keys: 400 (Postgres `jsonb` and `text` cannot hold it);
- anything that is not JSON (NaN, Infinity, numbers beyond a double, lone surrogates): 400.

django-ninja hides a parser's exception behind its own "Cannot parse request body" 400; each API's
`HttpError` handler answers the `AtriumError` it wraps instead (`refused_cause`).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.errors import HttpError
from ninja.parser import Parser

from atrium.core.errors import AtriumError, ValidationFailedError

NUL_REFUSED = "Text may not contain the NUL character (\\u0000)."
MAX_SAFE_INTEGER = 2**53 - 1
# A digit run this long may be an integer beyond MAX_SAFE_INTEGER (16 digits): only then the walk looks.
_LONG_DIGITS = re.compile(rb"\d{16,}")


class BodyTooLargeError(AtriumError):
    status_code = 413
    code = "body_too_large"


def body_too_large_message() -> str:
    limit = settings.ATRIUM_MAX_BODY_BYTES
    return f"The request body is larger than the limit of {limit} bytes (ATRIUM_MAX_BODY_BYTES)."


def _too_deep_message(limit: int) -> str:
    return f"JSON nested deeper than {limit} levels is refused (the limit, ATRIUM_MAX_JSON_DEPTH)."


def _problem(value: Any, *, max_depth: int, nul: bool, integers: bool) -> AtriumError | None:
    """The first thing in a parsed JSON value that may not be stored, walking it without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                return ValidationFailedError(_too_deep_message(max_depth), code="json_too_deep")
            for key, child in item.items():
                if nul and "\x00" in key:
                    return AtriumError(NUL_REFUSED, code="nul_character")
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                return ValidationFailedError(_too_deep_message(max_depth), code="json_too_deep")
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            if nul and "\x00" in item:
                return AtriumError(NUL_REFUSED, code="nul_character")
        elif integers and isinstance(item, int) and abs(item) > MAX_SAFE_INTEGER:
            return ValidationFailedError(
                f"Integers must lie within ±{MAX_SAFE_INTEGER} (what JSON clients hold exactly).",
                code="integer_out_of_range",
            )
    return None


def json_load(body: bytes) -> Any:
    """Parse a request body, refusing (with an `AtriumError`) what may not be stored."""
    if len(body) > settings.ATRIUM_MAX_BODY_BYTES:
        raise BodyTooLargeError(body_too_large_message())
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise AtriumError(f"Invalid JSON: {exc}", code="invalid_json") from None
    max_depth: int = settings.ATRIUM_MAX_JSON_DEPTH
    # Cheap byte scans decide whether the walk can find anything: nesting needs that many brackets,
    # a NUL in valid JSON needs its escape, a large integer a long run of digits.
    deep = body.count(b"[") + body.count(b"{") > max_depth
    nul = b"\\u0000" in body
    integers = _LONG_DIGITS.search(body) is not None
    if deep or nul or integers:
        problem = _problem(data, max_depth=max_depth, nul=nul, integers=integers)
        if problem is not None:
            raise problem
    return data


def refused_cause(exc: HttpError) -> AtriumError | None:
    """The refusal behind django-ninja's "Cannot parse request body" (it wraps the parser's error)."""
    cause = exc.__cause__
    return cause if isinstance(cause, AtriumError) else None


class StrictJSONParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        return json_load(request.body)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        if _problem(parsed, max_depth=sys.maxsize, nul=True, integers=False) is not None:
            raise HttpError(400, NUL_REFUSED)
        return parsed
