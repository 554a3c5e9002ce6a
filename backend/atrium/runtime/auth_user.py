"""The authenticated user as graphs see it: `config["configurable"]["langgraph_auth_user"]`.

LangGraph builds `Runtime.server_info.user` from any object with an `identity`; auth handlers written
for LangGraph deployments also index it like a dict, so it supports both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class AuthUser:
    identity: str
    display_name: str = ""
    is_authenticated: bool = True
    permissions: list[str] = field(default_factory=list)
    org_id: str = ""
    role: str = ""

    def __getitem__(self, key: str) -> Any:
        return asdict(self)[key]

    def get(self, key: str, default: Any = None) -> Any:
        return asdict(self).get(key, default)

    def dict(self) -> dict[str, Any]:
        return asdict(self)
