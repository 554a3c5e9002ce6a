"""JSON-RPC 2.0 envelopes for the protocol adapters (MCP, A2A)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse

from atrium.core.errors import AtriumError, NotFoundError, PermissionDeniedError, ValidationFailedError
from atrium.core.parsers import json_load
from atrium.runtime.api.common import json_response

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


@dataclass(frozen=True)
class RpcRequest:
    id: Any
    method: str
    params: dict[str, Any]

    @property
    def is_notification(self) -> bool:
        return self.id is None


def parse(request: HttpRequest) -> RpcRequest:
    """One JSON-RPC request (or notification) from the body; raises `RpcError` for anything else."""
    try:
        body = json_load(request.body or b"null")
    except AtriumError as exc:
        if exc.code == "invalid_json":
            raise RpcError(PARSE_ERROR, "Parse error: the body is not JSON.") from None
        # Too deep, a NUL, an integer out of range: the APIs' one parser refused it.
        raise RpcError(INVALID_REQUEST, exc.message, {"status": exc.status_code}) from None
    if not isinstance(body, dict) or body.get("jsonrpc") != "2.0":
        raise RpcError(INVALID_REQUEST, "Invalid request: expected one JSON-RPC 2.0 object.")
    method = body.get("method")
    params = body.get("params") if body.get("params") is not None else {}
    if not isinstance(method, str) or not isinstance(params, dict):
        raise RpcError(INVALID_REQUEST, "Invalid request: `method` must be a string, `params` an object.")
    return RpcRequest(id=body.get("id"), method=method, params=params)


def error_from(exc: AtriumError) -> RpcError:
    """A domain error as a JSON-RPC error; the HTTP status it would have had travels in `data`."""
    if isinstance(exc, NotFoundError):
        return RpcError(INVALID_PARAMS, exc.message, {"status": 404})
    if isinstance(exc, PermissionDeniedError):
        return RpcError(INVALID_REQUEST, exc.message, {"status": 403})
    if isinstance(exc, ValidationFailedError):
        return RpcError(INVALID_PARAMS, exc.message, {"status": 422})
    return RpcError(INVALID_PARAMS, exc.message, {"status": exc.status_code})


def result_body(request_id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def error_body(request_id: Any, error: RpcError) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.data is not None:
        payload["data"] = error.data
    return {"jsonrpc": "2.0", "id": request_id, "error": payload}


def error_response(request_id: Any, error: RpcError) -> HttpResponse:
    status = 400 if error.code in (PARSE_ERROR, INVALID_REQUEST) and request_id is None else 200
    return json_response(error_body(request_id, error), status=status)
