"""Create contacts in the sandbox Eloqua through its REST API (as a marketer's edits would)."""

from __future__ import annotations

import argparse
import base64

import httpx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8712")
    parser.add_argument("--contacts", type=int, default=250)
    parser.add_argument("--user", default="SandboxCo\\api.user")
    parser.add_argument("--password", default="sandbox-password")
    args = parser.parse_args()
    token = base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
    with httpx.Client(base_url=args.url, headers={"Authorization": f"Basic {token}"}) as http:
        for i in range(args.contacts):
            resp = http.post(
                "/api/REST/1.0/data/contact",
                json={
                    "emailAddress": f"contact{i}@example.com",
                    "firstName": f"First{i}",
                    "lastName": f"Last{i}",
                    "accountName": f"Company {i % 17}",
                    "fieldValues": [{"type": "FieldValue", "id": "100201", "value": f"REG-{i:05d}"}],
                },
            )
            resp.raise_for_status()
    print(f"created {args.contacts} contacts in {args.url}")


if __name__ == "__main__":
    main()
