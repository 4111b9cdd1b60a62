"""The rtnetlink handler census: registrations counted as upstream counts them."""

from __future__ import annotations

from migrator.packs.nd_lock.census import Handler, HandlerCensus, table_rows

FIELDS = ("owner", "protocol", "msgtype", "doit", "dumpit", "flags")


def test_table_rows_positional_designated_and_mixed() -> None:
    text = """{
	{THIS_MODULE, PF_MPLS, RTM_NEWROUTE, mpls_rtm_newroute, NULL, 0},
	/* a comment, with a comma */
	{THIS_MODULE, PF_MPLS, RTM_GETROUTE, mpls_getroute, mpls_dump_routes,
		RTNL_FLAG_DUMP_UNLOCKED},
	{.msgtype = RTM_GETLINK, .doit = f, .dumpit = g,
		.flags = RTNL_FLAG_DOIT_UNLOCKED | RTNL_FLAG_DUMP_UNLOCKED},
#if IS_ENABLED(CONFIG_X)
	{NULL, PF_UNSPEC, .doit = h, .flags = BIT(0)},
#endif
}"""
    rows = table_rows(text, FIELDS)
    assert [row.get("doit") for row in rows] == ["mpls_rtm_newroute", "mpls_getroute", "f", "h"]
    assert rows[0]["dumpit"] == "NULL"
    assert rows[1]["flags"] == "RTNL_FLAG_DUMP_UNLOCKED"
    assert rows[2]["flags"] == "RTNL_FLAG_DOIT_UNLOCKED | RTNL_FLAG_DUMP_UNLOCKED"
    assert rows[3]["protocol"] == "PF_UNSPEC" and rows[3]["flags"] == "BIT(0)"


def test_counts_by_registration_and_by_function() -> None:
    census = HandlerCensus(doit_flags={"RTNL_FLAG_DOIT_UNLOCKED", "ALIAS"})
    census.handlers = [
        Handler("a.c:1", "set", "", "0"),
        Handler("a.c:2", "set", "", "0"),  # one function, two registrations
        Handler("a.c:3", "get", "dump", "ALIAS | RTNL_FLAG_DUMP_UNLOCKED"),
        Handler("a.c:4", "get", "", "0"),  # locked once: not converted by function
        Handler("a.c:5", "", "dump2", "RTNL_FLAG_DUMP_UNLOCKED"),
    ]
    assert (census.doit_unlocked, census.doit) == (1, 4)
    assert (census.dumpit_unlocked, census.dumpit) == (2, 2)
    assert census.distinct("doit") == (0, 2)
    assert census.distinct("dumpit") == (2, 2)
