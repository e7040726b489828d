"""Per entity type: lookup, create, update, post-steps; pure body builders and comparison.

The face of the package: what the engine uses. Everything else is private to ``actions``.
"""

from webex_bulk.actions.base import Change, EntityActions
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.export import EXPORTS, TenantReader
from webex_bulk.actions.licenses import read_licenses
from webex_bulk.actions.lookups import PSTN_READ_SCOPE
from webex_bulk.actions.registry import REGISTRY

__all__ = [
    "EXPORTS",
    "PSTN_READ_SCOPE",
    "REGISTRY",
    "ActionContext",
    "Change",
    "EntityActions",
    "TenantReader",
    "read_licenses",
]
