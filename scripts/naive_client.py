"""The naive client the benchmark compares with: the sequential script an admin writes for a bulk
user import — per row one lookup, one create, one license call, one after the other.

It is polite the way such scripts are: it waits ``Retry-After`` on a 429 and retries a 5xx a
few times; it keeps one connection open (like a ``requests.Session``). Standard library only.

    WEBEX_TOKEN=… python scripts/naive_client.py --base-url URL --csv FILE --out RESULT.json
        [--stop-at MONOTONIC]

Writes ``{"rows": [[started, ended, ok], …], "requests": N, "failed": N}``.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import signal
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

CALLING_LICENSE = "Webex Calling - Professional"
SERVER_ERROR_RETRIES = 3
SERVER_ERROR_WAIT = 1.0
DEFAULT_RETRY_AFTER = 5.0


class ApiFailure(Exception):
    """An answer the script cannot use."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path}: HTTP {status}")
        self.status = status
        self.body = body


class NaiveClient:
    """One keep-alive connection; 429 → sleep ``Retry-After``; 5xx → a few retries."""

    def __init__(self, base_url: str, token: str) -> None:
        url = urllib.parse.urlsplit(base_url)
        self.prefix = url.path.rstrip("/")
        self.connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.requests = 0
        self.stopping = False

    def call(
        self, method: str, path: str, params: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        """Send one API call until it gets an answer it can use; its JSON body."""
        target = self.prefix + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = None if body is None else json.dumps(body)
        server_errors = 0
        while True:
            status, headers, answer = self._send(method, target, data)
            if status == 429:
                if self.stopping:
                    raise ApiFailure(method, path, status, answer)  # told to stop: give the row up
                time.sleep(_retry_after(headers.get("Retry-After")))
                continue
            if status >= 500 and server_errors < SERVER_ERROR_RETRIES:
                server_errors += 1
                time.sleep(SERVER_ERROR_WAIT)
                continue
            if status >= 400:
                raise ApiFailure(method, path, status, answer)
            return answer

    def _send(self, method: str, target: str, data: str | None) -> tuple[int, Any, Any]:
        self.requests += 1
        try:
            self.connection.request(method, target, body=data, headers=self.headers)
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # reconnects on the next request
            return 599, {}, None
        return response.status, response.headers, json.loads(raw) if raw.strip() else None


def _retry_after(value: str | None) -> float:
    try:
        return float(value) if value else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


def import_user(client: NaiveClient, row: dict[str, str], refs: dict[str, str]) -> None:
    """Look the user up by e-mail; if absent, create them, then assign the calling license."""
    found = client.call("GET", "/people", {"email": row["email"]})
    if found and found.get("items"):
        return
    person = client.call(
        "POST",
        "/people",
        body={
            "emails": [row["email"]],
            "displayName": f"{row['first_name']} {row['last_name']}",
            "firstName": row["first_name"],
            "lastName": row["last_name"],
        },
    )
    properties = {"locationId": refs[row["location"]], "extension": row["extension"]}
    client.call(
        "PATCH",
        "/licenses/users",
        body={
            "personId": person["id"],
            "licenses": [
                {"id": refs[CALLING_LICENSE], "operation": "add", "properties": properties}
            ],
        },
    )


def references(client: NaiveClient) -> dict[str, str]:
    """Location ids by name and the calling license id, read once."""
    refs = {
        item["name"]: item["id"]
        for item in client.call("GET", "/locations", {"max": "1000"})["items"]
    }
    for item in client.call("GET", "/licenses")["items"]:
        if item["name"] == CALLING_LICENSE:
            refs[CALLING_LICENSE] = item["id"]
    return refs


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Import every row of the file in order until the end or ``--stop-at``."""
    client = NaiveClient(args.base_url, os.environ["WEBEX_TOKEN"])
    signal.signal(signal.SIGTERM, lambda _signum, _frame: setattr(client, "stopping", True))
    refs = references(client)
    rows: list[tuple[float, float, bool]] = []
    failed = 0
    with Path(args.csv).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if time.monotonic() >= args.stop_at:
                client.stopping = True
            if client.stopping:
                break
            started = time.monotonic()
            try:
                import_user(client, row, refs)
                ok = True
            except ApiFailure:
                ok = False
                failed += 1
            rows.append((started, time.monotonic(), ok))
    return {"rows": rows, "requests": client.requests, "failed": failed}


def peak_rss_mb() -> float | None:
    """This process's own peak RSS (``VmHWM``): unlike ``ru_maxrss``, not inflated by the memory
    of the parent it was forked from."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main() -> None:
    """Parse the arguments, run, write the result file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--stop-at", type=float, default=float("inf"))
    args = parser.parse_args()
    result = run(args)
    result["peak_rss_mb"] = peak_rss_mb()
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")
    print(f"rows {len(result['rows'])} requests {result['requests']}", file=sys.stderr)


if __name__ == "__main__":
    main()
