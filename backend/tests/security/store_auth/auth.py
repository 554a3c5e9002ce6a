"""A deployment's auth file that shares a store namespace between users and gives each only their own
items in it: the store handler stamps the writer as `owner` and returns `{"owner": <caller>}`."""

from typing import Any

from langgraph_sdk import Auth

auth = Auth()

TOKENS: dict[str, dict[str, Any]] = {
    "token-alice": {"identity": "alice-sub", "email": "editor@acme.test"},
    "token-bob": {"identity": "bob-sub", "email": "admin@acme.test"},
}


@auth.authenticate
async def authenticate(authorization: str | None) -> Auth.types.MinimalUserDict:
    _, _, token = (authorization or "").partition(" ")
    user = TOKENS.get(token)
    if user is None:
        raise Auth.exceptions.HTTPException(status_code=401, detail="invalid token")
    return user  # type: ignore[return-value]


@auth.on.store
async def own_items_only(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value.get("value"), dict):
        value["value"].setdefault("owner", ctx.user.identity)
    return {"owner": ctx.user.identity}
