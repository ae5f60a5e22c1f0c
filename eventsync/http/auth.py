"""Turn a connection's auth definition into credentials on a request.

Secrets are resolved here, when the worker first uses a connection, and held only in memory.
OAuth2 token requests go through authlib; the token cache decides when to make them.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import authlib.deprecate  # noqa: F401 - registers its 'always' filter before ours below
import httpx

with warnings.catch_warnings():
    # authlib 1.9 announces a future move to an `httpx2` package; we pin httpx and authlib together.
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

from eventsync.definitions.connections import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    Connection,
    NoAuth,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
)
from eventsync.http.errors import AuthenticationError, RetryableHTTPError, is_retryable_status
from eventsync.http.tokens import Token, TokenCache
from eventsync.secrets import resolve_secret


def basic_username(auth: BasicAuth) -> str:
    """Eloqua's Basic user is `Site\\User` (the company's site name, a backslash, the user name)."""
    return f"{auth.site}\\{auth.username}" if auth.site else auth.username


@dataclass
class Credentials:
    """Resolved secrets of one connection. Never printed: repr hides every value."""

    connection: Connection
    secrets: dict[str, str] = field(repr=False)

    @classmethod
    def resolve(cls, connection: Connection) -> Credentials:
        auth = connection.auth
        refs: dict[str, str] = {}
        for name in ("password", "token", "key", "client_secret", "refresh_token"):
            ref = getattr(auth, name, None)
            if isinstance(ref, str):
                refs[name] = resolve_secret(ref, connection=connection.name, field=f"auth.{name}")
        return cls(connection, refs)


class Authenticator:
    """Applies one connection's credentials to requests; fetches OAuth2 tokens when needed."""

    def __init__(self, credentials: Credentials, tokens: TokenCache, timeout_s: float) -> None:
        self.connection = credentials.connection
        self._secrets = credentials.secrets
        self._tokens = tokens
        self._timeout = timeout_s
        self._key = f"{self.connection.name}:{self.connection.auth.model_dump_json()}"

    @property
    def uses_tokens(self) -> bool:
        return isinstance(self.connection.auth, OAuth2ClientCredentials | OAuth2RefreshToken)

    async def apply(self, request: httpx.Request) -> Token | None:
        """Add credentials to ``request``; returns the token used, if any (to invalidate on 401)."""
        auth = self.connection.auth
        if isinstance(auth, NoAuth):
            return None
        if isinstance(auth, BasicAuth):
            header = httpx.BasicAuth(basic_username(auth), self._secrets["password"])._auth_header
            request.headers["Authorization"] = header
            return None
        if isinstance(auth, BearerAuth):
            request.headers["Authorization"] = f"Bearer {self._secrets['token']}"
            return None
        if isinstance(auth, ApiKeyAuth):
            if auth.location == "header":
                request.headers[auth.name] = self._secrets["key"]
            else:
                request.url = request.url.copy_merge_params({auth.name: self._secrets["key"]})
            return None
        token = await self._tokens.get(self._key, self._fetch_token)
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        return token

    def invalidate(self, token: Token) -> None:
        self._tokens.invalidate(self._key, token)

    async def _fetch_token(self, previous: Token | None) -> Token:
        auth = self.connection.auth
        assert isinstance(auth, OAuth2ClientCredentials | OAuth2RefreshToken)
        method = "client_secret_post"
        if auth.client_auth == "client_secret_basic":
            method = "client_secret_basic"
        query_style = isinstance(auth, OAuth2ClientCredentials) and auth.token_request == "query"
        oauth = AsyncOAuth2Client(
            client_id=auth.client_id,
            client_secret=self._secrets["client_secret"],
            token_endpoint_auth_method="none" if query_style else method,
            timeout=self._timeout,
        )
        url = str(auth.token_url)
        try:
            async with oauth:
                if isinstance(auth, OAuth2RefreshToken):
                    refresh = (previous.refresh_token if previous else None) or self._secrets["refresh_token"]
                    raw = await oauth.refresh_token(url, refresh_token=refresh)
                elif query_style:
                    # Marketo: GET identity/oauth/token?grant_type=client_credentials&client_id=…&client_secret=…
                    raw = await oauth.fetch_token(
                        url,
                        method="GET",
                        grant_type="client_credentials",
                        client_id=auth.client_id,
                        client_secret=self._secrets["client_secret"],
                    )
                else:
                    kwargs = {"scope": auth.scope} if auth.scope else {}
                    raw = await oauth.fetch_token(url, grant_type="client_credentials", **kwargs)
        except OAuthError as err:
            # The provider's error code and description; never the request (it holds the secret).
            raise AuthenticationError(
                f"connection {self.connection.name!r}: token request refused: {err.error}",
                connection=self.connection.name,
                status=400,
                detail=err.description or None,
            ) from None
        except httpx.HTTPStatusError as err:
            status = err.response.status_code
            cls = RetryableHTTPError if is_retryable_status(status) else AuthenticationError
            raise cls(
                f"connection {self.connection.name!r}: token endpoint answered HTTP {status}",
                connection=self.connection.name,
                status=status,
            ) from None
        except httpx.TransportError as err:
            raise RetryableHTTPError(
                f"connection {self.connection.name!r}: token endpoint unreachable ({type(err).__name__})",
                connection=self.connection.name,
            ) from None
        except ValueError as err:  # authlib: a body that is not a token
            raise AuthenticationError(
                f"connection {self.connection.name!r}: token endpoint gave no token",
                connection=self.connection.name,
                detail=str(err)[:500],
            ) from None
        expires_in = raw.get("expires_in")
        expires_at = time.time() + float(expires_in) if expires_in is not None else None
        extra = {k: str(v) for k, v in raw.items() if k in ("instance_url", "scope", "token_type")}
        return Token(
            access_token=str(raw["access_token"]),
            expires_at=expires_at,
            refresh_token=raw.get("refresh_token") or (previous.refresh_token if previous else None),
            extra=extra,
        )
