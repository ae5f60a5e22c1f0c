"""URLs a fetch records (the next page's position, in workflow history and `fetch status`) never
carry a secret: a source that echoes its API key or a token into its next link must not put it
in history. The parameters are removed, not masked: the connection's auth adds its own on every
request, and a foreign secret has no business being sent on.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that hold credentials in the APIs we speak to (OAuth2, Marketo's identity
# call, API-key query auth). Not plain `token`: many sources name their page token so.
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "password",
        "passwd",
        "api_key",
        "apikey",
        "api-key",
        "x-api-key",
        "secret",
    }
)


def without_secrets(url: str, also: Iterable[str] = ()) -> str:
    """`url` without user:password and without secret query parameters (`also`: the
    connection's own auth parameter names), case-insensitive; everything else kept in order."""
    drop = SECRET_PARAMS | {a.lower() for a in also}
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower() not in drop]
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
