"""Issue 13 item 4 on the Eloqua emulator: a registrant typing `*@bigcorp.com` must not overwrite
another contact; an address with several contacts is rejected as ambiguous, on both paths."""

from __future__ import annotations

import httpx

from eventsync.flows.delivery import deliver_batch
from eventsync.http import ConnectionPool
from sandbox import eloqua
from sandbox.serving import served
from tests.unit.destinations.support import connection, flow, platform_event


async def _contacts(url: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient() as http:
        st = (await http.get(url + "/_sandbox/state")).json()
    contacts = st["contacts"]
    return list(contacts.values()) if isinstance(contacts, dict) else list(contacts)


async def test_a_wildcard_email_is_rejected_and_the_victim_is_untouched() -> None:
    app = eloqua.create_app()
    with served(app) as emu:
        pool = ConnectionPool()
        try:
            c = connection("eloqua", emu.url)
            f = flow("eloqua", c.name)
            [victim] = await deliver_batch(pool, f, c, [platform_event("V1", email="victim@bigcorp.com")])
            assert victim.outcome == "delivered"
            before = {k: dict(v) for k, v in app.state.sandbox.contacts.items()}
            [attack] = await deliver_batch(pool, f, c, [platform_event("X1", seq=1, email="*@bigcorp.com")])
        finally:
            await pool.aclose()
    assert attack.outcome == "rejected"
    assert "C_EmailAddress contains '*'" in (attack.detail or "")
    assert app.state.sandbox.contacts == before  # nobody was overwritten


async def test_several_contacts_with_one_address_are_ambiguous_on_rest_and_bulk() -> None:
    app = eloqua.create_app()
    with served(app) as emu:
        pool = ConnectionPool()
        try:
            c = connection("eloqua", emu.url)
            f = flow("eloqua", c.name)
            [first] = await deliver_batch(pool, f, c, [platform_event("D1", email="dup@example.com")])
            assert first.outcome == "delivered"
            # Eloqua instances without the uniqueness rule hold duplicates; the emulator enforces
            # it on its API, so the twin is put into its state directly.
            st = app.state.sandbox
            [original] = [x for x in st.contacts.values() if x.get("emailAddress") == "dup@example.com"]
            twin = {**original, "id": st.next_id(), "custom": {}}
            st.contacts[twin["id"]] = twin
            snapshot = {k: dict(v) for k, v in st.contacts.items()}
            # Standard fields only: the REST path (search, then PUT on the hit).
            standard = flow(
                "eloqua",
                c.name,
                {
                    "mapping": {
                        "fields": {
                            "C_EmailAddress": "$.record.profile.email",
                            "C_FirstName": "$.record.profile.firstName",
                        }
                    },
                    "activity": None,
                },
            )
            [rest] = await deliver_batch(
                pool, standard, c, [platform_event("D1", seq=1, email="dup@example.com")]
            )
            assert rest.outcome == "rejected" and (rest.detail or "").startswith(
                "ambiguous: 2 Eloqua contacts"
            )
            assert st.contacts == snapshot  # neither was written
            # A custom field: the bulk path; the import's mapping back finds two contacts.
            twin["updatedAt"] = original["updatedAt"] = 2**40  # both changed since the import began
            [bulk] = await deliver_batch(pool, f, c, [platform_event("D1", seq=2, email="dup@example.com")])
            assert bulk.outcome == "rejected" and (bulk.detail or "").startswith(
                "ambiguous: 2 Eloqua contacts"
            )
        finally:
            await pool.aclose()
