"""The tool the model uses to save what it learns."""


import uuid
from typing import Annotated, Optional

from langchain_core.tools import InjectedToolArg
from langgraph.store.base import BaseStore


async def upsert_memory(
    content: str,
    context: str,
    *,
    memory_id: Optional[uuid.UUID] = None,
    user_id: Annotated[str, InjectedToolArg],
    store: Annotated[BaseStore, InjectedToolArg],
) -> str:
    """Save a memory about the user, or correct one.

    Args:
        content: The memory itself, e.g. "The user takes their coffee black."
        context: Where it came from, e.g. "said while ordering breakfast".
        memory_id: The id of a memory to overwrite; leave empty for a new one.
    """
    key = memory_id or uuid.uuid4()
    await store.aput(("memories", user_id), key=str(key), value={"content": content, "context": context})
    return f"Stored memory {key}"
