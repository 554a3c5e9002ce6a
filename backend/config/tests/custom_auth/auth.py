"""An auth file as written for a LangGraph deployment: bearer tokens, owner stamping and filtering,
a denied action, and store namespaces scoped per user."""

from typing import Any

from langgraph_sdk import Auth

auth = Auth()

TOKENS: dict[str, dict[str, Any]] = {
    "token-alice": {"identity": "alice-sub", "email": "editor@acme.test", "permissions": ["write"]},
    "token-vera": {"identity": "vera-sub", "email": "viewer@acme.test", "permissions": []},
    "token-otto": {"identity": "otto-sub", "email": "admin@globex.test", "permissions": ["write"]},
    "token-ghost": {"identity": "ghost-sub", "email": "nobody@nowhere.test"},
}


@auth.authenticate
async def authenticate(authorization: str | None) -> Auth.types.MinimalUserDict:
    if not authorization:
        raise Auth.exceptions.HTTPException(status_code=401, detail="missing token")
    _, _, token = authorization.partition(" ")
    user = TOKENS.get(token)
    if user is None:
        raise Auth.exceptions.HTTPException(status_code=401, detail="invalid token")
    return user  # type: ignore[return-value]


@auth.on
async def owner_only(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> dict[str, Any]:
    """Stamp the caller as owner on writes; every request only sees what the caller owns."""
    if ctx.action in ("create", "update", "create_run"):
        value.setdefault("metadata", {})["owner"] = ctx.user.identity
    return {"owner": ctx.user.identity}


@auth.on.threads.delete
async def no_thread_deletes(ctx: Auth.types.AuthContext, value: Any) -> bool:
    return False


@auth.on.assistants.update
async def assistants_need_write(ctx: Auth.types.AuthContext, value: Any) -> None:
    if "write" not in ctx.permissions:
        raise Auth.exceptions.HTTPException(status_code=403, detail="write permission required")


@auth.on.assistants.read
async def assistants_readable(ctx: Auth.types.AuthContext, value: Any) -> None:
    return None


@auth.on.store
async def store_per_user(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> None:
    value["namespace"] = (ctx.user.identity, *(value.get("namespace") or ()))
