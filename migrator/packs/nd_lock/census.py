"""`migrate status` for nd_lock beyond the rules' own census (migrator.commands.status
counts each rule's done and to do from its sites): the rtnetlink handler lines (the
registrations are read by migrator.packs.rtnetlink_handlers, shared with netns_rtnl).
They are a report of the tree, not a stage's "done"."""

from __future__ import annotations

from migrator.packs.rtnetlink_handlers import Handler as Handler  # re-exported
from migrator.packs.rtnetlink_handlers import HandlerCensus as HandlerCensus  # re-exported
from migrator.packs.rtnetlink_handlers import handler_census
from migrator.packs.rtnetlink_handlers import table_rows as table_rows  # re-exported
from migrator.rules.context import TreeView


def handler_lines(view: TreeView) -> list[str]:
    """`migrate status` lines: the rtnetlink handlers that run without RTNL."""
    census = handler_census(view)
    return [f"rtnetlink: {census.summary()}", f"rtnetlink: {census.distinct_summary()}"]
