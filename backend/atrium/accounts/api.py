"""Sign-in for browsers, and who am I."""

from __future__ import annotations

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from ninja import Router
from ninja.utils import check_csrf

from atrium.accounts.models import User
from atrium.accounts.schemas import CsrfOut, LoginIn, MeOut
from atrium.accounts.selectors import user_authenticate
from atrium.core.errors import AtriumError, PermissionDeniedError
from atrium.orgs.selectors import membership_list_for_user

router = Router(tags=["auth"])


def me_payload(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "memberships": [{"org": m.org, "role": m.role} for m in membership_list_for_user(user=user)],
    }


@router.get("/auth/csrf", response=CsrfOut, auth=None)
def csrf(request: HttpRequest) -> dict[str, str]:
    """Sets the `csrftoken` cookie (get_token marks it for the CSRF middleware to send); browsers
    echo it in `X-CSRFToken` on unsafe requests."""
    return {"csrf_token": get_token(request)}


@router.post("/auth/login", response=MeOut, auth=None)
def login_view(request: HttpRequest, payload: LoginIn) -> dict[str, object]:
    if check_csrf(request) is not None:
        raise PermissionDeniedError("CSRF check failed: send the X-CSRFToken header.", code="csrf_failed")
    user = user_authenticate(request=request, email=payload.email, password=payload.password)
    if user is None:
        raise AtriumError("Invalid email or password.", code="invalid_credentials")
    login(request, user)
    return me_payload(user)


@router.post("/auth/logout", response={204: None}, auth=None)
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and check_csrf(request) is not None:
        raise PermissionDeniedError("CSRF check failed: send the X-CSRFToken header.", code="csrf_failed")
    logout(request)
    return HttpResponse(status=204)


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, object]:
    return me_payload(request.auth.user)  # type: ignore[attr-defined]
