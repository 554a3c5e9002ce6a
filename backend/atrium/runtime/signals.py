"""Deletes in the control plane that reach the runtime's LangGraph tables (checkpoints.py says what
goes). `pre_delete` runs inside the delete's transaction, before its cascades: a delete that fails
keeps everything, and an org's thread ids are still there to find its checkpoints."""

from __future__ import annotations

from typing import Any

from atrium.runtime import checkpoints


def org_pre_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    checkpoints.delete_org(org_id=instance.pk)


def user_pre_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    checkpoints.delete_user_items(user_id=instance.pk)
