"""The authenticated user as graphs see it: `config["configurable"]["langgraph_auth_user"]`, which
LangGraph turns into `runtime.server_info.user`.

LangGraph accepts any object with an `identity`; graphs and auth handlers written for LangGraph
deployments use it both ways, `user.identity` and `user["identity"]` (and `dict(user)`), so it is a
read-only mapping with attribute access. A caller identified by the deployment's `@auth.authenticate`
handler keeps the identity and every field the handler returned (`handler_user_fields`), as on the
Agent Server; other callers are their Atrium user.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator, Mapping
from typing import Any


class AuthUser(Mapping[str, Any]):
    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = {"display_name": "", "is_authenticated": True, "permissions": [], **data}
        self._data["identity"] = str(self._data["identity"])

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"AuthUser(identity={self._data['identity']!r})"  # fields may be private: not in logs

    def dict(self) -> dict[str, Any]:
        return dict(self._data)


# The fields `@auth.authenticate` returned for the current request's caller; None when Atrium itself
# authenticated it (API key, session). Set by the Agent API's authentication on every request, read
# when a run is created, which keeps them with the run (`Run.kwargs`, never shown by the API).
_handler_user: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "atrium_handler_user", default=None
)


def set_handler_user(user: Mapping[str, Any] | None) -> None:
    # Stored as JSON: the run keeps it in a JSON column and the worker rebuilds the user from it.
    _handler_user.set(json.loads(json.dumps(dict(user), default=str)) if user is not None else None)


def handler_user_fields() -> dict[str, Any] | None:
    return _handler_user.get()
