"""An auth module that cannot load: the server must refuse requests, not serve them anonymously."""

from langgraph_sdk import Auth

auth = Auth()

raise RuntimeError("the identity provider's keys are not configured")
