"""`eventsync sandbox` runs every emulator; each answers its admin API."""

import httpx

from sandbox import stack


def test_every_emulator_starts_and_answers_its_admin_api() -> None:
    ports = dict.fromkeys(stack.EMULATORS, 0)  # free ports: the fixed ones may be taken on CI
    with stack.run(ports=ports) as running:
        assert set(running) == set(stack.EMULATORS)
        for r in running.values():
            assert httpx.get(f"{r.url}/_sandbox/state", timeout=10).status_code == 200, r.name


def test_documented_fixed_ports() -> None:
    assert {name: stack.default_port(name) for name in stack.EMULATORS} == {
        "platform": 8701,
        "touchpoint": 8702,
        "webhook": 8703,
        "restsource": 8704,
        "marketo": 8711,
        "eloqua": 8712,
        "salesforce": 8713,
        "hubspot": 8714,
    }
