"""Connections: where a system is and how to authenticate to it (secrets by reference)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, HttpUrl, model_validator

from eventsync.definitions.common import Name, SecretRef, Strict

# Hosts a request never leaves the machine for: the only ones credentials may reach over http.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class NoAuth(Strict):
    kind: Literal["none"] = "none"


class BasicAuth(Strict):
    kind: Literal["basic"] = "basic"
    username: str
    password: SecretRef
    site: str | None = Field(
        None, description="Eloqua company/site name: the user name sent is 'Site\\\\User'"
    )


class BearerAuth(Strict):
    """A static bearer token (e.g. a HubSpot private-app token)."""

    kind: Literal["bearer"] = "bearer"
    token: SecretRef


class ApiKeyAuth(Strict):
    kind: Literal["api_key"] = "api_key"
    key: SecretRef
    name: str = Field("X-API-Key", description="header or query-parameter name")
    location: Literal["header", "query"] = "header"


class OAuth2ClientCredentials(Strict):
    kind: Literal["oauth2_client_credentials"] = "oauth2_client_credentials"
    token_url: HttpUrl
    client_id: str
    client_secret: SecretRef
    scope: str | None = None
    token_request: Literal["form", "query"] = Field(
        "form",
        description="'query' sends client_id/client_secret as query parameters of a GET (Marketo's identity endpoint)",
    )
    client_auth: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"


class OAuth2RefreshToken(Strict):
    """Authorization-code grant done once out of band; we keep refreshing (Eloqua, Salesforce, HubSpot)."""

    kind: Literal["oauth2_refresh_token"] = "oauth2_refresh_token"
    token_url: HttpUrl
    client_id: str
    client_secret: SecretRef
    refresh_token: SecretRef
    client_auth: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"


Auth = Annotated[
    NoAuth | BasicAuth | BearerAuth | ApiKeyAuth | OAuth2ClientCredentials | OAuth2RefreshToken,
    Field(discriminator="kind"),
]

Vendor = Literal["http", "platform", "touchpoint", "marketo", "eloqua", "salesforce", "hubspot"]


class Connection(Strict):
    name: Name
    vendor: Vendor = Field("http", description="which connector speaks to it (its errors, its cheapest read)")
    base_url: HttpUrl
    auth: Auth = Field(default_factory=NoAuth)
    headers: dict[str, str] = Field(
        default_factory=dict, description="sent on every request (no secrets here)"
    )
    timeout_s: float = Field(30.0, gt=0, le=600)
    max_response_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        description="largest response body accepted, counted after decompression; a larger one is "
        "a permanent error (a gzip bomb cannot exhaust the worker's memory)",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="hosts besides base_url's own that may receive this connection's requests and "
        "credentials (e.g. a Salesforce instance host, `*.example.com`, `host:8443`); every other "
        "URL — a next-page link, a Link header, a rendered lookup path — is refused (docs/security.md)",
    )
    test_path: str | None = Field(None, description="path of the cheapest read for `connections test`")
    task_queue: str | None = Field(
        None,
        description="Signal and Touchpoint deliveries through this connection run only on workers "
        "polling this task queue (`eventsync worker --task-queue NAME`); run one such worker and the "
        "vendor's rate limit is paced in one place however many other workers run (docs/deploy.md)",
    )

    @model_validator(mode="after")
    def _credentials_over_https(self) -> Connection:
        if self.auth.kind == "none":
            return self
        token_url = getattr(self.auth, "token_url", None)
        for field, url in (("base_url", self.base_url), ("auth.token_url", token_url)):
            if url is not None and url.scheme == "http" and (url.host or "").lower() not in LOOPBACK_HOSTS:
                raise ValueError(
                    f"{field} {url} is http:// to another host, and this connection sends credentials: "
                    "they go over https only (http is accepted for loopback hosts such as the sandbox's "
                    "127.0.0.1); write https://"
                )
        return self

