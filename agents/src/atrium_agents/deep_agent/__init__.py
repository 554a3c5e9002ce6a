"""The default deep agent: memory scopes, guardrails from settings, approvals and subagents."""
