import httpx
from fastapi import FastAPI

from sandbox import faults
from sandbox.serving import served


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/thing")
    async def thing() -> dict[str, bool]:
        return {"ok": True}

    faults.install(app)
    return app


def test_fault_rule_fires_limited_times_then_clears() -> None:
    with served(_app()) as s, httpx.Client(base_url=s.url) as http:
        assert http.get("/thing").json() == {"ok": True}
        http.post(
            "/_sandbox/faults",
            json={"path": "/thing", "status": 429, "body": {"error": "slow down"}, "times": 2},
        )
        assert [http.get("/thing").status_code for _ in range(3)] == [429, 429, 200]
        assert http.get("/_sandbox/faults").json()[0]["fired"] == 2
        http.delete("/_sandbox/faults")
        assert http.get("/thing").status_code == 200


def test_connection_reset_is_seen_by_the_client() -> None:
    with served(_app()) as s, httpx.Client(base_url=s.url) as http:
        http.post("/_sandbox/faults", json={"path": "/thing", "action": "reset", "times": 1})
        try:
            http.get("/thing")
            raised = False
        except httpx.TransportError:
            raised = True
        assert raised
        assert http.get("/thing").status_code == 200
