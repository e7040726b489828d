"""Device activation codes: a ``device`` row without a MAC gets a code for its owner and model
(``POST /devices/activationCode``), unless a code this run directory handed out is still valid
or the owner already has a registered phone of that model.
"""

from __future__ import annotations

import attrs

from webex_bulk.actions import compare
from webex_bulk.actions.base import Change, Decision
from webex_bulk.actions.context import ActionContext, owner_key
from webex_bulk.actions.failure import RowFailure
from webex_bulk.actions.inventory import Item
from webex_bulk.error_handling import Action, Reason
from webex_bulk.models import ActivationCode, Outcome, Row

#: ``plan``'s words for a row that would get a code: ``create (activation code)``.
MINT = Change("create", detail="activation code")
#: The device list's ``connectionStatus`` of a device still waiting for its code.
ACTIVATING = "activating"


async def decide_code(
    ctx: ActionContext, row: Row, model: str, owner: tuple[str, str] | None
) -> Decision:
    """A code still valid → unchanged; a registered phone of the model → unchanged; else mint.

    ``owner`` is None only in ``plan``, for an owner an earlier row of the file creates.
    """
    refs: dict[str, object] = {"model": model}
    held = ctx.activation_codes.valid(row.get("owner"), row.get("location"), model)
    if held is not None:
        detail = f"activation code valid until {held.expiry}: see activation_codes.csv"
        return Decision(Change("unchanged", detail=detail), refs=refs)
    if owner is None:
        return Decision(MINT, refs=refs)
    kind, owner_id = owner
    registered = await _registered_phone(ctx, kind, owner_id, model)
    if registered is not None:
        detail = f"the owner already has a registered {model}"
        change = Change("unchanged", (), str(registered.get("id", "")), detail=detail)
        return Decision(change, registered, refs)
    return Decision(MINT, refs={**refs, "owner_kind": kind, "owner_id": owner_id})


async def _registered_phone(
    ctx: ActionContext, kind: str, owner_id: str, model: str
) -> Item | None:
    """A device of the owner of that model that is not waiting for an activation code (from
    the device inventory when it was listed, else ``GET /devices?personId=`` or
    ``?workspaceId=``)."""
    field = "personId" if kind == "person" else "workspaceId"
    items = await ctx.devices.lookup(
        owner_key(owner_id), lambda: ctx.list_every("/devices", {field: owner_id}, "items")
    )
    supported = await ctx.supported_devices()
    for item in items:
        if compare.device_owner(item) != (kind, owner_id):
            continue
        product = str(item.get("product") or item.get("model") or "")
        same = compare.supported_model(supported, product) == model
        if same and item.get("connectionStatus") != ACTIVATING:
            return item
    return None


async def mint_code(ctx: ActionContext, row: Row, decision: Decision) -> Outcome:
    """One ``POST /devices/activationCode``; the outcome carries the code to the writer, which
    puts it in ``activation_codes.csv`` only. An unchanged decision writes nothing."""
    change = decision.change
    if change.kind == "unchanged":
        return Outcome.success(row, Action.UNCHANGED, change.remote_id, detail=change.detail)
    refs = decision.refs
    model = str(refs["model"])
    field = "personId" if refs["owner_kind"] == "person" else "workspaceId"
    body = {field: str(refs["owner_id"]), "model": model}
    response = await ctx.client.request(
        "POST", "/devices/activationCode", params=ctx.query(), json=body
    )
    answer = response.body if isinstance(response.body, dict) else {}
    code, expiry = str(answer.get("code") or ""), str(answer.get("expiryTime") or "")
    if not code:
        raise RowFailure(
            Reason.API_REJECTED,
            "the activation code answer holds no code: run again to get one",
        )
    minted = ActivationCode(row.line, row.get("owner"), row.get("location"), model, code, expiry)
    ctx.activation_codes.record(minted)
    detail = f"activation code valid until {expiry or 'unknown'}: see activation_codes.csv"
    outcome = Outcome.success(row, Action.CREATED, "", response.tracking_id, detail)
    return attrs.evolve(outcome, activation_code=minted)
