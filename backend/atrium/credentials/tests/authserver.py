"""A real OAuth 2.0 authorization server on loopback, built from Authlib's server components.

Authorization code with PKCE (S256, required), refresh tokens that rotate on every use (a reused,
already-rotated refresh token revokes the whole grant, as careful providers do), RFC 7009
revocation. The consent page approves at once for `user`, so a test plays the browser with one GET;
`/userinfo` is a protected resource answering `{"sub": user}` to a valid bearer token.
Every refresh is counted, so tests can tell how many reached the provider.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge

AUTH_METHODS = ["client_secret_post", "client_secret_basic", "none"]


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scope: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(self.scope.split())
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return client_secret == self.client_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_post"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token(TokenMixin):
    access_token: str
    refresh_token: str | None
    client_id: str
    user: str
    scope: str
    expires_in: int
    grant_id: str
    issued_at: float = field(default_factory=time.time)
    revoked: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        return bool(client.get_client_id() == self.client_id)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + self.expires_in


class _Request(OAuth2Request):
    def __init__(self, method: str, uri: str, headers: Message, args: dict[str, str], form: dict[str, str]):
        super().__init__(method=method, uri=uri, headers=headers)
        self._args, self._form = args, form
        self.payload = BasicOAuth2Payload({**args, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class LoopbackAuthorizationServer(AuthorizationServer):
    """State in memory; `lock` guards it (the HTTP server answers from several threads)."""

    def __init__(
        self, *, client: Client, user: str, expires_in: int = 3600, refresh_delay: float = 0.0
    ) -> None:
        super().__init__(scopes_supported=client.scope.split())
        self.client, self.user = client, user
        self.expires_in = expires_in
        self.refresh_delay = refresh_delay  # widens the window in which two refreshes could overlap
        self.lock = threading.RLock()
        self.codes: dict[str, Code] = {}
        self.tokens: list[Token] = []
        self.refresh_calls = 0
        self.reuse_detected = 0
        self.revocations: list[str] = []
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: f"at-{generate_token(32)}",
                refresh_token_generator=lambda **_: f"rt-{generate_token(32)}",
                expires_generator=lambda client, grant_type: self.expires_in,
            ),
        )
        self.register_grant(_CodeGrant, [CodeChallenge(required=True)])
        self.register_grant(_RefreshGrant)
        self.register_endpoint(_Revocation)

    # Authlib's hooks -------------------------------------------------------------------------
    def query_client(self, client_id: str) -> Client | None:
        return self.client if client_id == self.client.client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        old: Token | None = getattr(request, "refresh_token", None)
        with self.lock:
            self.tokens.append(
                Token(
                    access_token=token["access_token"],
                    refresh_token=token.get("refresh_token"),
                    client_id=self.client.client_id,
                    user=self.user,
                    scope=token.get("scope", ""),
                    expires_in=int(token["expires_in"]),
                    grant_id=old.grant_id if old is not None else uuid.uuid4().hex,
                )
            )

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # the HTTP handler below builds it

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    # Test controls ---------------------------------------------------------------------------
    def revoke_grants(self) -> None:
        """The user revokes the app at the provider: every token stops working."""
        with self.lock:
            for token in self.tokens:
                token.revoked = True

    def valid_access_tokens(self) -> set[str]:
        with self.lock:
            return {t.access_token for t in self.tokens if not t.revoked and not t.is_expired()}

    def token_by_refresh(self, refresh_token: str) -> Token | None:
        with self.lock:
            return next((t for t in self.tokens if t.refresh_token == refresh_token), None)


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    server: LoopbackAuthorizationServer

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.server.codes[code] = Code(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=data.get("redirect_uri", ""),
            scope=request.payload.scope or "",
            user=request.user,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: ClientMixin) -> Code | None:
        found = self.server.codes.get(code)
        return found if found is not None and found.client_id == client.get_client_id() else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.server.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> str:
        return authorization_code.user


class _RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: LoopbackAuthorizationServer

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        server = self.server
        with server.lock:
            server.refresh_calls += 1
            found = server.token_by_refresh(refresh_token)
            if found is not None and found.revoked:
                # A rotated refresh token used again: someone holds a copy. Revoke the whole grant.
                server.reuse_detected += 1
                for token in server.tokens:
                    if token.grant_id == found.grant_id:
                        token.revoked = True
                return None
        time.sleep(server.refresh_delay)
        return found

    def authenticate_user(self, refresh_token: Token) -> str:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: Token) -> None:
        with self.server.lock:
            refresh_token.revoked = True


class _Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS
    server: LoopbackAuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        with self.server.lock:
            return next(
                (t for t in self.server.tokens if token_string in (t.access_token, t.refresh_token)), None
            )

    def revoke_token(self, token: Token, request: OAuth2Request) -> None:
        with self.server.lock:
            self.server.revocations.append(request.form["token"])
            for other in self.server.tokens:
                if other.grant_id == token.grant_id:
                    other.revoked = True


def serve(server: LoopbackAuthorizationServer) -> tuple[str, ThreadingHTTPServer]:
    """Serve `server` on a free loopback port; returns its base URL and the HTTP server (shut it down)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _request(self, form: dict[str, str]) -> _Request:
            host = self.headers.get("host", "127.0.0.1")
            args = dict(parse_qsl(urlsplit(self.path).query))
            return _Request(self.command, f"http://{host}{self.path}", self.headers, args, form)

        def _answer(self, result: tuple[int, Any, Any]) -> None:
            status, body, headers = result
            data = json.dumps(body).encode() if isinstance(body, (dict, list)) else str(body or "").encode()
            self.send_response(status)
            for name, value in headers or []:
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/userinfo":  # a protected resource
                bearer = (self.headers.get("authorization") or "").removeprefix("Bearer ")
                if bearer and bearer in server.valid_access_tokens():
                    self._answer((200, {"sub": server.user}, [("content-type", "application/json")]))
                else:
                    self._answer((401, {"error": "invalid_token"}, [("content-type", "application/json")]))
                return
            if urlsplit(self.path).path != "/authorize":
                self._answer((404, {"error": "not_found"}, []))
                return
            request = self._request({})
            with server.lock:
                grant = server.get_consent_grant(request=request, end_user=server.user)
                self._answer(
                    server.create_authorization_response(request=request, grant_user=server.user, grant=grant)
                )

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            request = self._request(form)
            path = urlsplit(self.path).path
            if path == "/token":
                self._answer(server.create_token_response(request))
            elif path == "/revoke":
                self._answer(server.create_endpoint_response("revocation", request))
            else:
                self._answer((404, {"error": "not_found"}, []))

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, name="oauth-test-server", daemon=True).start()
    return f"http://127.0.0.1:{http.server_address[1]}", http
