"""Custom search attributes, defined once (docs/cli.md lists them and how to register them).

The dev server registers them at start (`eventsync dev`, the test fixture); a cluster
registers them with `temporal operator search-attribute create` (docs/operations.md).
"""

from temporalio.common import SearchAttributeKey

KIND = SearchAttributeKey.for_keyword("EventsyncKind")  # flow | fetch | touchpoint | smoke
NAME = SearchAttributeKey.for_keyword("EventsyncName")  # flow or fetch name
ACCOUNT = SearchAttributeKey.for_keyword("EventsyncAccount")
EVENT = SearchAttributeKey.for_keyword("EventsyncEvent")
RECORDS = SearchAttributeKey.for_keyword_list("EventsyncRecords")  # record keys held or parked
# running | parked | waiting_quota (a native destination out of its daily quota) | done | failed …
STATUS = SearchAttributeKey.for_keyword("EventsyncStatus")

ALL: list[SearchAttributeKey] = [KIND, NAME, ACCOUNT, EVENT, RECORDS, STATUS]

_TYPE_NAMES = {
    "KEYWORD": "Keyword",
    "KEYWORD_LIST": "KeywordList",
    "TEXT": "Text",
    "INT": "Int",
    "FLOAT": "Double",
    "BOOL": "Bool",
    "DATETIME": "Datetime",
}


def type_name(key: SearchAttributeKey) -> str:
    """The type as the `temporal` CLI spells it (Keyword, KeywordList, …)."""
    return _TYPE_NAMES[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]


def cli_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={type_name(key)}"]
    return flags


def create_commands() -> list[str]:
    """The `temporal` commands that register them on a cluster's namespace, once."""
    return [f"temporal operator search-attribute create --name {key.name} --type {type_name(key)}" for key in ALL]
