"""Sign-in for browsers, and who am I."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from authlib.integrations.base_client.errors import OAuthError
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.utils.http import url_has_allowed_host_and_scheme
from joserfc.errors import JoseError
from ninja import Router
from ninja.utils import check_csrf

from atrium.accounts import oidc
from atrium.accounts.models import User
from atrium.accounts.schemas import CsrfOut, LoginIn, MeOut, SsoProviderOut
from atrium.accounts.services import external_identity_user, user_sign_in
from atrium.core.errors import AtriumError, PermissionDeniedError
from atrium.core.tenancy import role_permissions
from atrium.orgs.selectors import membership_list_for_user
from atrium.orgs.services import sso_membership_ensure

router = Router(tags=["auth"])


def me_payload(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "memberships": [
            {"org": m.org, "role": m.role, "permissions": sorted(role_permissions(m.role))}
            for m in membership_list_for_user(user=user)
        ],
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
    user = user_sign_in(request=request, email=payload.email, password=payload.password)
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


# ----- single sign-on (OpenID Connect) --------------------------------------------------------------

SSO_NEXT = "atrium_sso_next"


def _login_url(slug: str) -> str:
    return f"/api/v1/auth/oidc/{slug}/login"


@router.get("/auth/oidc/providers", response=list[SsoProviderOut], auth=None)
def sso_providers(request: HttpRequest) -> list[dict[str, str]]:
    """The sign-in buttons of the login page."""
    return [{"slug": p.slug, "name": p.name, "login_url": _login_url(p.slug)} for p in oidc.providers()]


@router.get("/auth/oidc/{slug}/login", auth=None, include_in_schema=False)
def sso_login(request: HttpRequest, slug: str, next: str = "/") -> HttpResponse:
    """Send the browser to the provider, with state, nonce and PKCE kept in the session."""
    _, client = oidc.provider_get(slug)
    safe = url_has_allowed_host_and_scheme(next, allowed_hosts=None) and next.startswith("/")
    request.session[SSO_NEXT] = next if safe else "/"
    redirect_uri = request.build_absolute_uri(f"/api/v1/auth/oidc/{slug}/callback")
    try:
        return client.authorize_redirect(request, redirect_uri)  # type: ignore[no-any-return]
    except (OAuthError, OSError, ValueError) as exc:
        raise AtriumError(f"The sign-in provider cannot be reached: {exc}", code="sso_unavailable") from exc


@router.get("/auth/oidc/{slug}/callback", auth=None, include_in_schema=False)
def sso_callback(request: HttpRequest, slug: str) -> HttpResponse:
    """The provider's answer: a verified ID token signs in (and maybe creates) the user.

    The browser is mid-navigation here, so a refusal sends it back to the login page with the reason
    (`/login?sso_error=...`) instead of showing it a JSON error; an unknown provider stays a 404.
    """
    provider, client = oidc.provider_get(slug)
    try:
        return _sso_complete(request, provider, client)
    except AtriumError as exc:
        return HttpResponseRedirect("/login?" + urlencode({"sso_error": exc.message}))


def _sso_complete(request: HttpRequest, provider: oidc.OidcProvider, client: Any) -> HttpResponse:
    try:
        token = client.authorize_access_token(request)
    except OAuthError as exc:
        raise AtriumError(f"Sign-in failed: {exc.description or exc.error}", code="sso_failed") from exc
    except JoseError as exc:  # the ID token's signature or claims did not verify
        raise AtriumError(
            f"Sign-in failed: the ID token is invalid ({exc.error}).", code="sso_failed"
        ) from exc
    except (OSError, ValueError) as exc:
        raise AtriumError(f"Sign-in failed: {exc}", code="sso_failed") from exc
    claims = token.get("userinfo") or {}
    if not claims.get("sub"):
        raise AtriumError("Sign-in failed: the provider sent no ID token subject.", code="sso_failed")
    email = str(claims.get("email") or "")
    domain = email.rpartition("@")[2].lower()
    if provider.allowed_domains and domain not in provider.allowed_domains:
        raise PermissionDeniedError(
            f"Accounts of {domain or 'this domain'} may not sign in here.", code="sso_domain"
        )
    user = external_identity_user(
        provider=provider.slug,
        issuer=str(claims.get("iss") or provider.issuer),
        subject=str(claims.get("sub") or ""),
        email=email or None,
        email_verified=claims.get("email_verified") is True,
        create=provider.create_users,
        name=str(claims.get("name") or ""),
    )
    if user is None:
        raise PermissionDeniedError("No Atrium account matches this sign-in.", code="sso_no_account")
    if provider.org:
        sso_membership_ensure(org_slug=provider.org, user=user, role=provider.role)
    next_url = request.session.pop(SSO_NEXT, "/")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect(next_url)
