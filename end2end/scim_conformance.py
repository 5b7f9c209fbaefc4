#!/usr/bin/env python3
"""SCIM 2.0 conformance of a running Scimpad server, checked by scim2-tester.

    usage: scim_conformance.py [BASE_URL]

BASE_URL is the SCIM root (e.g. http://127.0.0.1:3020/scim/v2), or $SCIM_BASE_URL. The API key is
read from $SCIM_TOKEN, or from the file $SCIM_TOKEN_FILE names (never from the command line, where
other users of the machine could see it). `cargo xtask conformance` (and `cargo xtask test`)
starts a server on a fresh database, creates the key and runs this script in a virtualenv holding
end2end/requirements.txt.

Every check of scim2-tester (https://scim2-tester.readthedocs.io) runs through its `check_server`
API: discovery (/ServiceProviderConfig, /ResourceTypes, /Schemas), an unknown URL, and for every
resource type the server publishes: POST, GET by id, list, `attributes`/`excludedAttributes` on
GET, list and /.search, PUT, DELETE, and PATCH add/remove/replace of each attribute. One line is
printed per check, then `N passed, M failed[, K skipped]`; the exit code is 1 when any check failed
(or errored, or a resource type in EXPECTED_RESOURCE_TYPES was never exercised), 2 when the tester
itself could not run.

Statuses: SUCCESS, COMPLIANT and ACCEPTABLE pass; SKIPPED (by the tester) is counted apart;
everything else (ERROR, CRITICAL, DEVIATION, any status a later version adds) fails. Nothing is
waived: every check must pass.

Scimpad limits each organisation's SCIM request rate (429 with Retry-After, as Entra expects).
The tester sends its checks back to back, faster than that budget on a fast machine, so the HTTP
client does what Entra does on 429: waits Retry-After and sends the request again (at most
RETRIES_ON_429 times). The number of such waits is printed with the summary.

The tester fills resources with random values. `random` is seeded (SCIM_CONFORMANCE_SEED, printed
at start) so a failure can be replayed with the same enum choices and `primary` flags.
"""

from __future__ import annotations

import importlib.metadata
import os
import random
import sys
import time
from typing import Any

PASSING = {"SUCCESS", "COMPLIANT", "ACCEPTABLE"}
SKIPPING = {"SKIPPED"}

# The resource types Scimpad serves: the run fails if the tester exercised none of their checks
# (e.g. because discovery went wrong and check_server stopped early).
EXPECTED_RESOURCE_TYPES = ("User", "Group")


# How many times one request is sent again after a 429 before the 429 is the tester's answer.
RETRIES_ON_429 = 5


def one_line(text: Any) -> str:
    return " | ".join(str(text).split("\n")).strip()


def truncated(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def main(argv: list[str]) -> int:
    base_url = argv[1] if len(argv) > 1 else os.environ.get("SCIM_BASE_URL", "")
    token = os.environ.get("SCIM_TOKEN", "")
    if not token and os.environ.get("SCIM_TOKEN_FILE"):
        with open(os.environ["SCIM_TOKEN_FILE"], encoding="utf-8") as f:
            token = f.read().strip()
    if len(argv) > 2 or not base_url or not token:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        print("scim_conformance: give BASE_URL (or $SCIM_BASE_URL) and $SCIM_TOKEN (or $SCIM_TOKEN_FILE)",
              file=sys.stderr)
        return 2

    try:
        from httpx2 import Client, HTTPTransport
        from scim2_client.engines.httpx2 import SyncSCIMClient
        from scim2_tester import check_server
    except ImportError as exc:
        print(f"scim_conformance: {exc}: pip install -r end2end/requirements.txt", file=sys.stderr)
        return 2

    seed = int(os.environ.get("SCIM_CONFORMANCE_SEED", "7644"))
    random.seed(seed)
    version = importlib.metadata.version("scim2-tester")
    print(f"scim2-tester {version} against {base_url} (SCIM_CONFORMANCE_SEED={seed})", flush=True)

    class RetryAfter429(HTTPTransport):
        """Sends a request again after a 429, once its Retry-After (seconds) has passed."""

        waits = 0

        def handle_request(self, request):
            for _ in range(RETRIES_ON_429):
                response = super().handle_request(request)
                if response.status_code != 429:
                    return response
                retry_after = response.headers.get("Retry-After", "1")
                response.close()
                RetryAfter429.waits += 1
                time.sleep(float(retry_after) if retry_after.isdigit() else 1.0)
            return super().handle_request(request)

    http = Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30.0,
        transport=RetryAfter429(),
    )
    try:
        results = check_server(SyncSCIMClient(http))
    except Exception as exc:  # the tester catches check failures; this is the tester breaking
        print(f"scim_conformance: scim2-tester crashed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        http.close()

    passed = failed = skipped = 0
    for result in results:
        status = result.status.name
        reason = one_line(result.reason or "")
        where = f" [{result.resource_type}]" if result.resource_type else ""
        if status in PASSING:
            passed += 1
            label = "PASS"
        elif status in SKIPPING:
            skipped += 1
            label = "SKIP"
        else:
            failed += 1
            label = f"FAIL({status})"
        print(f"{label:<14} {result.title}{where}: {reason}", flush=True)
        if label.startswith("FAIL") and result.data is not None:
            print(f"{'':<14}   data: {truncated(one_line(result.data))}", flush=True)

    exercised = {r.resource_type for r in results if r.resource_type and r.status.name not in SKIPPING}
    for name in EXPECTED_RESOURCE_TYPES:
        if name not in exercised:
            failed += 1
            print(f"{'FAIL(COVERAGE)':<14} resource_type_tests [{name}]: no check of {name} ran "
                  "(is it published in /ResourceTypes and /Schemas?)", flush=True)

    summary = f"{passed} passed, {failed} failed"
    if skipped:
        summary += f", {skipped} skipped"
    summary += f" ({RetryAfter429.waits} waits on 429 Retry-After)"
    print(summary, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
