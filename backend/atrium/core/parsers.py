"""The request-body parser of both HTTP APIs.

Postgres stores JSON as `jsonb` and text as `text`, neither of which can hold a NUL character, and
UTF-8 has no encoding for a lone surrogate. Such input is refused here, at the door, as a 400 naming
the problem (django-ninja turns a parser error into one), so it can never reach the database as a 500.
orjson also refuses what is not JSON at all (NaN, Infinity, lone surrogates).
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.errors import HttpError
from ninja.parser import Parser

NUL_REFUSED = "Text may not contain the NUL character (\\u0000)."


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in key or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class StrictJSONParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        try:
            data = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"Invalid JSON: {exc}") from None
        # The escape is the only way a NUL gets into valid JSON; the walk runs only when it is there.
        if b"\\u0000" in request.body and _has_nul(data):
            raise ValueError(NUL_REFUSED)
        return cast(dict[str, Any], data)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        if _has_nul(parsed):
            raise HttpError(400, NUL_REFUSED)
        return parsed
