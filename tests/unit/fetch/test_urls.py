"""A recorded next URL carries no secret (issue 13 item 7)."""

from __future__ import annotations

from eventsync.fetch.urls import without_secrets


def test_secret_parameters_and_userinfo_are_removed_the_rest_kept_in_order() -> None:
    url = "https://u:p@api.example.com/v1/x?after=abc&api_key=K1&limit=4&Access_Token=T&token=page2"
    assert without_secrets(url) == "https://api.example.com/v1/x?after=abc&limit=4&token=page2"


def test_the_connections_own_auth_parameter_is_removed() -> None:
    assert without_secrets("http://h/p?key=K&after=1", {"key"}) == "http://h/p?after=1"


def test_a_url_without_secrets_is_left_byte_for_byte() -> None:
    url = "http://h/api?lastUpdatedAt>='1700000000'&after=a%2Fb"
    assert without_secrets(url) == url
