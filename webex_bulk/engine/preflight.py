"""Preflight: the checks that run before any write — environment, token, org, scopes, licenses.

Each check is a ``Check`` value; a failed check stops ``run`` and ``plan`` before their first write.
"""

from __future__ import annotations

import enum
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from webex_bulk.actions import PSTN_READ_SCOPE, read_licenses
from webex_bulk.config import Settings
from webex_bulk.engine.batch_iterator import PHASES, RowSelection
from webex_bulk.error_handling import (
    NETWORK_HINT,
    ApiError,
    ForbiddenError,
    NetworkError,
    PreflightError,
    RequestError,
    RetriesExhausted,
)
from webex_bulk.http import WebexClient
from webex_bulk.input import InputFile
from webex_bulk.models import EntityType

#: Free disk space a run directory needs at the least, plus about this much per input row.
MIN_FREE_BYTES = 50 * 1024 * 1024
BYTES_PER_ROW = 1024  # measured ~0.5 KiB a row (journal + CSV copy); 2× for wide rows


class Level(enum.StrEnum):
    """How a check ended."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@attrs.frozen
class Check:
    """One line of the preflight checklist."""

    name: str
    level: Level
    detail: str
    hint: str = ""  # what to do, when the check knows better than "fix this"

    def line(self) -> str:
        """The checklist line shown to the admin."""
        mark = {Level.OK: "[ok]  ", Level.WARN: "[warn]", Level.FAIL: "[FAIL]"}[self.level]
        hint = f" — {self.hint}" if self.hint else ""
        return f"{mark} {self.name}: {self.detail}{hint}"


#: One cheap read per entity type, and the scope a 403 on it means is missing.
READ_PROBES: dict[EntityType, tuple[str, str, str]] = {
    EntityType.LOCATION: ("/locations", "items", "spark-admin:locations_read"),
    EntityType.NUMBER: ("/telephony/config/numbers", "phoneNumbers", "telephony_config_read"),
    EntityType.SCHEDULE: ("/telephony/config/locations", "locations", "telephony_config_read"),
    EntityType.USER: ("/people", "items", "spark-admin:people_read"),
    EntityType.WORKSPACE: ("/workspaces", "items", "spark-admin:workspaces_read"),
    EntityType.HUNT_GROUP: ("/telephony/config/huntGroups", "huntGroups", "telephony_config_read"),
    EntityType.CALL_QUEUE: ("/telephony/config/queues", "queues", "telephony_config_read"),
    EntityType.AUTO_ATTENDANT: (
        "/telephony/config/autoAttendants",
        "autoAttendants",
        "telephony_config_read",
    ),
    EntityType.DEVICE: ("/devices", "items", "spark-admin:devices_read"),
    EntityType.VIRTUAL_LINE: (
        "/telephony/config/virtualLines",
        "virtualLines",
        "telephony_config_read",
    ),
    # Call parks and pickups are listed per location only: their org-wide sibling probes the scope.
    **dict.fromkeys(
        (EntityType.CALL_PARK_EXTENSION, EntityType.CALL_PARK, EntityType.CALL_PICKUP),
        ("/telephony/config/callParkExtensions", "callParkExtensions", "telephony_config_read"),
    ),
    EntityType.PAGING_GROUP: (
        "/telephony/config/paging",
        "locationPaging",
        "telephony_config_read",
    ),
    EntityType.VOICEMAIL_GROUP: (
        "/telephony/config/voicemailGroups",
        "voicemailGroups",
        "telephony_config_read",
    ),
}


def check_run_dir(run_dir: Path, row_count: int) -> Check:
    """The run directory exists, is writable and has room for the outputs."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-probe"
        probe.write_bytes(b"ok")
        probe.unlink()
        free = shutil.disk_usage(run_dir).free
    except OSError as exc:
        return Check("run directory", Level.FAIL, f"{run_dir} is not writable: {exc.strerror}")
    need = MIN_FREE_BYTES + row_count * BYTES_PER_ROW
    if free < need:
        detail = f"{run_dir}: {free // 2**20} MiB free, about {need // 2**20} MiB needed"
        return Check("run directory", Level.FAIL, detail)
    return Check("run directory", Level.OK, f"{run_dir} ({free // 2**20} MiB free)")


async def check_token(client: WebexClient) -> Check:
    """The token works; says who it belongs to and which org. The first call of every command:
    a host that cannot be reached is the network's failure and a 404 the base URL's, not the
    token's."""
    try:
        me = (await client.request("GET", "/people/me")).body or {}
    except (RequestError, NetworkError) as exc:
        return first_call_check(exc, client.settings.base_url) or Check(
            "token", Level.FAIL, f"GET /people/me failed: {exc}"
        )
    who = (me.get("emails") or [me.get("displayName", "?")])[0]
    return Check("token", Level.OK, f"works for {who} (org {me.get('orgId', '?')})")


def first_call_check(exc: Exception, base_url: str) -> Check | None:
    """The failed first call of a command as the network's or the base URL's failure, or None
    when it is neither (the token's, the API's)."""
    if isinstance(exc, NetworkError):
        return Check("network", Level.FAIL, f"cannot reach {exc.host}: {exc.cause}", NETWORK_HINT)
    if isinstance(exc, RetriesExhausted) and exc.unreachable:
        detail = f"cannot reach {exc.unreachable}: {exc.cause}"
        return Check("network", Level.FAIL, detail, NETWORK_HINT)
    if isinstance(exc, ApiError) and exc.status == 404:
        detail = f"GET {exc.path} → 404 at {base_url}: that is not the root of the Webex API"
        hint = f"--base-url must end with /v1 (the default is {DEFAULT_BASE_URL})"
        return Check("base URL", Level.FAIL, detail, hint)
    return None


async def check_org(client: WebexClient, org_id: str | None) -> Check | None:
    """A partner's ``--org-id`` is reachable with this token."""
    if not org_id:
        return None
    try:
        org = (await client.request("GET", f"/organizations/{org_id}")).body or {}
    except RequestError as exc:
        return Check("organisation", Level.FAIL, f"{org_id} is not reachable: {exc}")
    return Check("organisation", Level.OK, f"{org.get('displayName', org_id)}")


async def check_read_scopes(
    client: WebexClient, types: Iterable[EntityType], org_id: str | None
) -> list[Check]:
    """One read per entity type in the file; a 403 names the scope that is missing."""
    checks = []
    for entity_type in types:
        path, _, scope = READ_PROBES[entity_type]
        params: dict[str, str | int] = {"max": 1}
        if org_id:
            params["orgId"] = org_id
        try:
            await client.request("GET", path, params=params)
        except ForbiddenError:
            detail = f"403 on GET {path}: the token lacks {scope} or the admin role"
            checks.append(Check(f"read {entity_type.value}", Level.FAIL, detail))
        except RequestError as exc:
            checks.append(Check(f"read {entity_type.value}", Level.FAIL, str(exc)))
        else:
            checks.append(Check(f"read {entity_type.value}", Level.OK, f"GET {path}"))
    return checks


#: The base URL a ``--base-url`` hint names: the setting's default, the Webex API's root.
DEFAULT_BASE_URL = str(attrs.fields(Settings).base_url.default)
#: The PSTN read of the numbers' pre-check (its scope missing is a warning).
PSTN_PROBE = "/telephony/pstn/locations/{}/connection"


async def check_pstn_scope(client: WebexClient, org_id: str | None) -> Check | None:
    """The PSTN connection of one calling location can be read (number rows only; None when
    the calling locations cannot be listed: the read checks above say why).

    The read only spares a numbers add that Webex would refuse anyway (provider-managed
    numbers), so a 403 is a warning: the run skips the pre-check and goes on.
    """
    name = "read PSTN connection"
    params: dict[str, str | int] = {"orgId": org_id} if org_id else {}
    try:
        listed = await client.request(
            "GET", "/telephony/config/locations", params={**params, "max": 1}
        )
    except RequestError:
        return None
    locations = (listed.body or {}).get("locations") or []
    if not locations:
        return Check(name, Level.OK, "no calling location yet: read when the numbers run")
    try:
        await client.request("GET", PSTN_PROBE.format(locations[0].get("id")), params=params)
    except ForbiddenError:
        detail = (
            f"403: the token lacks {PSTN_READ_SCOPE}; numbers are added without the PSTN "
            "pre-check and Webex refuses those of provider-managed locations itself — add the "
            "scope to the integration to check first"
        )
        return Check(name, Level.WARN, detail)
    except ApiError as exc:
        if exc.status != 404:  # 404: that location has no PSTN connection yet; the scope works
            return Check(name, Level.WARN, f"{exc}; the PSTN pre-check may be skipped")
    except RequestError as exc:
        return Check(name, Level.WARN, f"{exc}; the PSTN pre-check may be skipped")
    return Check(name, Level.OK, f"GET {PSTN_PROBE.format('{id}')} ({PSTN_READ_SCOPE})")


async def check_licenses(
    client: WebexClient, wanted: dict[str, int], org_id: str | None
) -> list[Check]:
    """Calling license headroom for the user rows, matched as the run matches them (every page,
    every license of the kind); short is a warning (rows end unavailable)."""
    if not any(wanted.values()):
        return []
    try:
        pool = await read_licenses(client, {"orgId": org_id} if org_id else {})
    except RequestError as exc:
        return [Check("calling licenses", Level.FAIL, f"GET /licenses failed: {exc}")]
    checks = []
    for kind, count in sorted(wanted.items()):
        names = ", ".join(dict.fromkeys(str(lic.get("name")) for lic in pool.of_kind(kind)))
        names = names or f"no Webex Calling {kind} license"
        free = pool.free(kind)
        level = Level.OK if free >= count else Level.WARN
        detail = f"{names}: {free} free for up to {count} user rows"
        if level is Level.WARN:
            detail += "; rows beyond the free units end rejected license_unavailable"
        checks.append(Check(f"{kind} licenses", level, detail))
    return checks


async def check_device_models(
    client: WebexClient, models: set[str], org_id: str | None
) -> Check | None:
    """Every device model of the file is a supported model."""
    if not models:
        return None
    params = {"orgId": org_id} if org_id else None
    try:
        body = (
            await client.request("GET", "/telephony/config/supportedDevices", params=params)
        ).body
    except RequestError as exc:
        return Check("device models", Level.FAIL, f"cannot list supported devices: {exc}")
    known = {
        name.casefold()
        for d in (body or {}).get("devices", [])
        for name in (d.get("model", ""), d.get("displayName", ""))
        if name
    }
    unknown = sorted(m for m in models if m.casefold() not in known)
    if unknown:
        detail = f"not supported: {', '.join(unknown)}; those rows end pending out_of_scope"
        return Check("device models", Level.WARN, detail)
    return Check("device models", Level.OK, f"{len(models)} model(s) supported")


def wanted_licenses(selection: RowSelection) -> tuple[dict[str, int], set[str]]:
    """User rows per calling license kind and the device models of the rows a run takes (one
    read of the file; ``RowSelection.scanned_demand`` spares it when no limit applies)."""
    wanted = {"professional": 0, "basic": 0}
    models: set[str] = set()
    for phase in PHASES:
        if phase.name not in ("user", "device"):
            continue
        for row in selection.phase_rows(phase):
            if row.entity_type is EntityType.USER:
                wanted[row.get("license", "professional")] += 1
            elif row.entity_type is EntityType.DEVICE and row.get("model"):
                models.add(row.get("model"))
    return wanted, models


async def run_checks(
    client: WebexClient,
    source: InputFile,
    selection: RowSelection,
    run_dir: Path,
    org_id: str | None,
) -> list[Check]:
    """Every preflight check, in the order of the checklist."""
    checks = [
        Check("input", Level.OK, f"{source.path}: {source.row_count} rows"),
        *(Check("input", Level.WARN, w) for w in source.warnings),
        check_run_dir(run_dir, source.row_count),
        await check_token(client),
    ]
    if checks[-1].level is Level.FAIL:
        return checks
    org = await check_org(client, org_id)
    if org is not None:
        checks.append(org)
    types = [t for t in EntityType if source.counts_by_type.get(t.value)]
    checks += await check_read_scopes(client, types, org_id)
    pstn_check = await check_pstn_scope(client, org_id) if EntityType.NUMBER in types else None
    if pstn_check is not None:
        checks.append(pstn_check)
    scanned = selection.scanned_demand()
    wanted, models = scanned or wanted_licenses(selection)
    licenses = await check_licenses(client, wanted, org_id)
    if scanned and any(c.level is not Level.OK for c in licenses):
        # The first pass's count is an upper bound: count exactly before warning.
        licenses = await check_licenses(client, wanted_licenses(selection)[0], org_id)
    checks += licenses
    device_check = await check_device_models(client, models, org_id)
    if device_check is not None:
        checks.append(device_check)
    return checks


def raise_on_failure(checks: Sequence[Check]) -> None:
    """Stop the run when any check failed (exit 1); warnings let it go on."""
    failed = [c for c in checks if c.level is Level.FAIL]
    if failed:
        first = failed[0]
        hint = first.hint or "fix this, then run preflight again"
        raise PreflightError(first.name, first.detail, hint)
