"""A saved plan (``plan --out plan.json``) and what ``run --plan`` does with it: the input's
fingerprint and the org it was made for, and per row the decision and the remote values it was
based on; a row whose decision differs now is held back as ``pending`` ``plan_stale``.

The file holds ids and compared values only, secrets masked (the passcode is never read back).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from webex_bulk.actions import Change
from webex_bulk.error_handling import PlanRefused, Reason
from webex_bulk.http import WebexClient
from webex_bulk.input import mask_secrets
from webex_bulk.models import Outcome, Row
from webex_bulk.state import write_atomic

#: The version of the file's layout; a newer one is refused rather than half understood.
PLAN_FORMAT = 1
#: The decisions ``run --plan`` may carry out (the others end without a write anyway).
CHANGES = ("create", "update", "unchanged")


@attrs.frozen
class PlannedRow:
    """What the plan said of one row, and the remote values it read."""

    plan: str  # create | update | unchanged | rejected | pending
    remote_id: str = ""
    remote: Mapping[str, str] = attrs.field(factory=dict)  # column → remote value (compared)
    fields: tuple[str, ...] = ()  # the columns an update writes


@attrs.define
class SavedPlan:
    """One plan: for which file and org, and each row's decision by line number."""

    input_sha256: str
    org_id: str
    rows: dict[int, PlannedRow] = attrs.Factory(dict)
    #: the SHA-256 of the file it was loaded from ("" for a plan being made)
    sha256: str = ""

    def add(self, line: int, planned: PlannedRow) -> None:
        """File one row's decision (a row of a plan is known by its line in the file)."""
        self.rows[line] = planned

    def save(self, path: Path) -> None:
        """Write the plan atomically as JSON."""
        document = {
            "format": PLAN_FORMAT,
            "input_sha256": self.input_sha256,
            "org_id": self.org_id,
            "rows": [
                {"line": line, **attrs.asdict(planned, recurse=False)}
                | {"fields": list(planned.fields), "remote": dict(planned.remote)}
                for line, planned in sorted(self.rows.items())
            ],
        }
        text = json.dumps(document, ensure_ascii=False, indent=1)
        write_atomic(path, text.encode("utf-8") + b"\n")

    @classmethod
    def load(cls, path: Path) -> SavedPlan:
        """Read a saved plan; a file that is not one is refused (``PlanRefused``) naming it."""
        try:
            data = path.read_bytes()
            document = json.loads(data.decode("utf-8"))
            if document.get("format") != PLAN_FORMAT:
                raise ValueError(f"format {document.get('format')!r}, expected {PLAN_FORMAT}")
            plan = cls(
                str(document["input_sha256"]),
                str(document["org_id"]),
                sha256=hashlib.sha256(data).hexdigest(),
            )
            for entry in document["rows"]:
                plan.add(int(entry["line"]), _planned(entry))
        except OSError as error:
            raise _refused(path, f"cannot be read ({error.strerror or error})") from None
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise _refused(path, f"is not a plan saved by plan --out ({error})") from None
        return plan

    def check_input(self, path: Path, input_sha256: str, input_path: Path) -> None:
        """Refuse a plan made from another input file (or another version of it)."""
        if self.input_sha256 != input_sha256:
            raise _refused(
                path,
                f"was made from another input file than {input_path} (sha256 "
                f"{self.input_sha256[:12]}…, this file {input_sha256[:12]}…): plan this file, "
                "review it, then run it with the new plan",
            )

    def check_org(self, path: Path, org_id: str) -> None:
        """Refuse a plan made for another org."""
        if self.org_id != org_id:
            raise _refused(
                path,
                f"was made for org {self.org_id!r}, this token works on {org_id!r}: plan "
                "against this org (or use the token or --org-id the plan was made with)",
            )

    def approve(self, row: Row, change: Change) -> Outcome | None:
        """None when ``change`` is the decision the plan made for the row on the same remote
        values; otherwise the row's ``plan_stale`` outcome (nothing is written)."""
        planned = self.rows.get(row.line)
        if planned is None:
            why = "the plan holds no decision for this row (made with other --only/--limit?)"
            return _stale(row, change, why)
        now = PlannedRow(change.kind, change.remote_id, mask_secrets(change.old), change.fields)
        if planned.plan not in CHANGES:
            return _stale(row, change, f"the plan said {planned.plan}, now it is {change.kind}")
        if (planned.plan, planned.remote_id) != (now.plan, now.remote_id):
            was = f"{planned.plan} {planned.remote_id}".strip()
            return _stale(row, change, f"the plan said {was}, now it is {change.kind}")
        changed = [
            column
            for column in sorted({*planned.remote, *now.remote})
            if planned.remote.get(column) != now.remote.get(column)
        ]
        if changed:
            seen = "; ".join(
                f"{column}: {planned.remote.get(column, '')!r} → {now.remote.get(column, '')!r}"
                for column in changed
            )
            return _stale(row, change, f"changed in the tenant since the plan ({seen})")
        return None


def planned_row(
    kind: str, remote_id: str, old: Mapping[str, str], fields: tuple[str, ...]
) -> PlannedRow:
    """A row's entry of the saved plan (secrets masked)."""
    return PlannedRow(kind, remote_id, dict(mask_secrets(old)), fields)


async def current_org(client: WebexClient, org_id: str | None) -> str:
    """The org the commands work on: ``--org-id``, else the token's own (``GET /people/me``)."""
    if org_id:
        return org_id
    me = (await client.request("GET", "/people/me")).body or {}
    return str(me.get("orgId") or "") if isinstance(me, Mapping) else ""


def _planned(entry: Mapping[str, Any]) -> PlannedRow:
    remote = entry.get("remote") or {}
    if not isinstance(remote, Mapping):
        raise ValueError(f"line {entry['line']}: remote is not an object")
    return PlannedRow(
        str(entry["plan"]),
        str(entry.get("remote_id") or ""),
        {str(k): str(v) for k, v in remote.items()},
        tuple(str(field) for field in entry.get("fields") or ()),
    )


def _stale(row: Row, change: Change, why: str) -> Outcome:
    detail = f"{why}: not applied; plan again, review and approve the new plan"
    return Outcome.failed(row, Reason.PLAN_STALE, detail, remote_id=change.remote_id)


def _refused(path: Path, problem: str) -> PlanRefused:
    return PlanRefused("--plan", str(path), problem)
