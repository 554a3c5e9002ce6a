"""A real OpenID Connect provider for tests, built from Authlib's server components and served by
werkzeug on loopback: discovery, JWKS, the authorization endpoint (which signs in whoever the test
says, without a login form) and the token endpoint issuing RS256-signed ID tokens.

Only the edge is a test double here (who the person at the provider is); the protocol is real:
PKCE, state, nonce, client authentication and signed ID tokens checked by the relying party.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "atrium-web"
CLIENT_SECRET = "a-client-secret-for-tests"


@dataclass
class Person:
    sub: str
    email: str
    email_verified: bool = True
    name: str = ""


class _Payload(OAuth2Payload):
    def __init__(self, request: Request) -> None:
        self._request = request

    @property
    def data(self) -> Any:
        return self._request.values

    @cached_property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key in self.data:
            values[key].extend(self.data.getlist(key))
        return values


class _Request(OAuth2Request):
    def __init__(self, request: Request) -> None:
        super().__init__(method=request.method, uri=request.url, headers=request.headers)
        self._request = request
        self.payload = _Payload(request)

    @property
    def args(self) -> Any:
        return self._request.args

    @property
    def form(self) -> Any:
        return self._request.form


@dataclass
class _Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    person: Person
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class OidcProvider:
    """Start with `serve()`; `sign_in_as(person)` decides who the next authorization is for."""

    def __init__(self, redirect_uri: str) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"}, private=True)
        self.signing_key = self.key  # a test may swap in another key to forge tokens
        self.person: Person | None = None
        self.codes: dict[str, _Code] = {}
        self.used_nonces: set[str] = set()
        self.client = _Client(CLIENT_ID, CLIENT_SECRET, [redirect_uri])
        self.issuer = ""
        self.server = self._authorization_server()

    def sign_in_as(self, person: Person) -> None:
        self.person = person

    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):
            def query_client(self, client_id: str) -> _Client | None:
                return provider.client if client_id == provider.client.client_id else None

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                pass

            def create_oauth2_request(self, request: Request) -> OAuth2Request:
                return _Request(request)

            def create_json_request(self, request: Request) -> Any:
                raise NotImplementedError

            def handle_response(self, status: int, body: Any, headers: Any) -> Response:
                text = json.dumps(body) if isinstance(body, dict) else body
                return Response(text, status=status, headers=headers)

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                pass

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
                data = request.payload.data
                provider.codes[code] = _Code(
                    code=code,
                    client_id=request.payload.client_id,
                    redirect_uri=request.payload.redirect_uri,
                    scope=request.payload.scope,
                    person=request.user,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
                found = provider.codes.get(code)
                return found if found is not None and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: _Code) -> Person:
                return authorization_code.person

        class OpenID(OpenIDCode):
            def resolve_client_private_key(self, client: _Client) -> RSAKey:
                return provider.signing_key

            def get_client_claims(self, client: _Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.client_id], "exp": int(time.time()) + 300}

            def get_client_algorithm(self, client: _Client) -> str:
                return "RS256"

            def get_encode_header(self, client: _Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": "k1"}

            def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
                seen = nonce in provider.used_nonces
                provider.used_nonces.add(nonce)
                return seen

            def generate_user_info(self, user: Person, scope: str) -> UserInfo:
                info = UserInfo(sub=user.sub, name=user.name)
                if "email" in scope:
                    info["email"] = user.email
                    info["email_verified"] = user.email_verified
                return info

        server = Server()
        server.register_token_generator(
            "default", BearerTokenGenerator(access_token_generator=lambda *a, **k: secrets.token_urlsafe(24))
        )
        server.register_grant(CodeGrant, [OpenID(require_nonce=True), CodeChallenge(required=True)])
        return server

    def _metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/.well-known/openid-configuration":
            response = Response(json.dumps(self._metadata()), content_type="application/json")
        elif request.path == "/jwks":
            response = Response(
                json.dumps({"keys": [self.key.as_dict(private=False)]}), content_type="application/json"
            )
        elif request.path == "/authorize":
            response = self.server.create_authorization_response(request, grant_user=self.person)
        elif request.path == "/token":
            response = self.server.create_token_response(request)
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)

    def serve(self) -> Iterator[OidcProvider]:
        server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.issuer = f"http://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, name="oidc-provider", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            thread.join(timeout=10)
