"""Who wants to know that a user completed a consent.

The runtime resumes runs that waited for a consent; it registers here at start-up
(`RuntimeConfig.ready`), so the credentials app needs no import of the runtime (which imports it).
Listeners run in the callback's request, in the user's org scope, after the tokens are stored."""

from __future__ import annotations

from collections.abc import Callable

from atrium.credentials.models import OAuthAuthorization

ConsentListener = Callable[[OAuthAuthorization], object]
_listeners: list[ConsentListener] = []


def consent_listener_add(listener: ConsentListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def consent_completed(authorization: OAuthAuthorization) -> None:
    for listener in list(_listeners):
        listener(authorization)
