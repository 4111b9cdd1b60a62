"""The core patches: the nd_lock API in include/linux/netdevice.h (stage 1, --with-core)
and the link_deps declarations in include/net/rtnetlink.h (stage 2), placed through the
parse tree, with the objects they declare `extern` defined and exported."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from migrator import cli
from migrator.edit.edits import apply_edits, group_by_file
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.model import StagePlan
from migrator.packs import load_pack
from migrator.packs.nd_lock.core import find_declaration, find_struct
from migrator.verify.complete import check_completeness, load_api

API = load_api(load_pack().api_file, "nd_lock")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "sample"
TRICKY_H = ROOT / "corpus" / "core" / "netdevice.h"
CASES = Path("/work/shared/cases")
QMUX = CASES / "master-link-in-newlink"


def plan(tree: Path, stage: int, **options: object) -> StagePlan:
    opts = PlanOptions(use_cache=False, jobs=1, rule_options={"with_core": True, **options})
    return open_engine(tree, opts).plan(stage)


def applied(tree: Path, the_plan: StagePlan) -> dict[str, bytes]:
    return {f: apply_edits((tree / f).read_bytes(), edits)
            for f, edits in group_by_file(the_plan.edits).items()}


def write_back(tree: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        (tree / path).write_bytes(data)


def core_sites(the_plan: StagePlan) -> list:  # type: ignore[type-arg]
    return [s for s in the_plan.sites if s.template == "core"]


@pytest.fixture
def tricky(tmp_path: Path) -> Path:
    """The sample tree with a netdevice.h shaped like the real one."""
    tree = tmp_path / "tree"
    shutil.copytree(SAMPLE, tree)
    shutil.copy(TRICKY_H, tree / "include/linux/netdevice.h")
    return tree


def test_member_lands_in_struct_net_device(tricky: Path) -> None:
    the_plan = plan(tricky, 1)
    out = applied(tricky, the_plan)["include/linux/netdevice.h"]
    net_device = find_struct(out, "net_device")
    assert net_device is not None and net_device.has_member("nd_lock")
    for other in ("packet_type", "offload_callbacks", "netdev_hw_addr_list"):
        struct = find_struct(out, other)
        assert struct is not None and not struct.has_member("nd_lock"), other
    # the flexible array stays last, with the member it is counted by
    fields = [m for m in net_device.members if m.kind != "comment"]
    assert fields[-1].flexible and fields[-1].names == ("priv",)
    assert fields[-2].names == ("priv_len",)
    text = out.decode()
    assert ("\tstruct dim_irq_moder\t*irq_moder;\n\n"
            "\t/** @nd_lock: lock shared with the devices configured together */\n"
            "\tstruct nd_lock __rcu\t*nd_lock;\n\n"
            "\tu8\t\t\tpriv_len;\n") in text
    # pure insertions: every other byte of the header stays
    assert all(e.start == e.end for s in core_sites(the_plan) for e in s.edits)


def test_member_at_closing_brace_outside_ifdef(tmp_path: Path) -> None:
    """No flexible array: the member goes before the struct's own closing brace, after
    a trailing #endif, never inside the group nor in the struct that follows."""
    tree = tmp_path / "tree"
    shutil.copytree(SAMPLE, tree)
    header = TRICKY_H.read_text().replace(
        "\tu8\t\t\tpriv_len;\n\tu8\t\t\tpriv[] ____cacheline_aligned\n"
        "\t\t\t\t       __counted_by(priv_len);\n",
        "#ifdef CONFIG_DPLL\n\tstruct dpll_pin __rcu\t*dpll_pin;\n#endif\n")
    (tree / "include/linux/netdevice.h").write_text(header)
    out = applied(tree, plan(tree, 1))["include/linux/netdevice.h"].decode()
    assert ("#ifdef CONFIG_DPLL\n\tstruct dpll_pin __rcu\t*dpll_pin;\n#endif\n\n"
            "\t/** @nd_lock: lock shared with the devices configured together */\n"
            "\tstruct nd_lock __rcu\t*nd_lock;\n} ____cacheline_aligned;\n") in out
    assert find_struct(out.encode(), "packet_type").has_member("nd_lock") is False  # type: ignore[union-attr]


def test_struct_nd_lock_defined_with_api(tricky: Path) -> None:
    out = applied(tricky, plan(tricky, 1))
    header = out["include/linux/netdevice.h"]
    nd_lock = find_struct(header, "nd_lock")
    assert nd_lock is not None
    fields = [m.names for m in nd_lock.members if m.kind != "comment"]
    assert fields == [("mutex",), ("list",), ("nr",), ("usage",), ("rcu",)]
    api = load_api(load_pack().api_file, "nd_lock")
    for name, where in api.functions.items():
        if where == "include/linux/netdevice.h":
            assert find_declaration(header, name, function=True) is not None, name
    assert find_declaration(header, "fallback_nd_lock", extern=True) is not None
    # prototypes follow the definition, right before register_netdevice()
    text = header.decode()
    assert text.index("struct nd_lock {") < text.index("bool lock_netdev(") < \
        text.index("int register_netdevice(")
    # the tricky header has neither linux/mutex.h nor a struct mutex of its own
    assert "#include <linux/percpu.h>\n#include <linux/rculist.h>\n#include <linux/mutex.h>\n" \
        "#include <linux/refcount.h>\n#include <uapi/linux/netdevice.h>\n" in text
    dev_c = out["net/core/dev.c"]
    assert find_declaration(dev_c, "fallback_nd_lock", extern=False) is not None
    assert b"\nEXPORT_SYMBOL_GPL(fallback_nd_lock);\n" in dev_c


def test_core_lines_kernel_style(tricky: Path) -> None:
    the_plan = plan(tricky, 1)
    added = [line for s in core_sites(the_plan) for e in s.edits
             for line in e.replacement.splitlines()]
    assert added
    for line in added:
        assert len(line.expandtabs(8)) <= 80, line
        assert not line.startswith(" ") or line.startswith(" *"), line
        assert line == line.rstrip(), line


def test_core_idempotent_per_part(tricky: Path) -> None:
    write_back(tricky, applied(tricky, plan(tricky, 1)))
    assert core_sites(plan(tricky, 1)) == []
    # the old fault's output: the API is there, the member sits in struct packet_type;
    # only the member of struct net_device is added (no second API, no second object)
    header = tricky / "include/linux/netdevice.h"
    member = ("\n\t/** @nd_lock: lock shared with the devices configured together */\n"
              "\tstruct nd_lock __rcu\t*nd_lock;\n")
    text = header.read_text()
    assert member in text
    text = text.replace(member, "\n").replace(
        "\tstruct list_head\tlist;\n};\n\nstruct offload_callbacks",
        "\tstruct list_head\tlist;\n\tstruct nd_lock __rcu\t*nd_lock;\n};\n\n"
        "struct offload_callbacks")
    header.write_text(text)
    assert find_struct(text.encode(), "packet_type").has_member("nd_lock")  # type: ignore[union-attr]
    (site,) = core_sites(plan(tricky, 1))
    assert [(e.file, e.replacement) for e in site.edits] == [
        ("include/linux/netdevice.h", member[1:] + "\n")]
    out = applied(tricky, plan(tricky, 1))["include/linux/netdevice.h"]
    assert find_struct(out, "net_device").has_member("nd_lock")  # type: ignore[union-attr]


def test_register_netdevice_prototype_missing_is_review(tricky: Path) -> None:
    header = tricky / "include/linux/netdevice.h"
    header.write_text(header.read_text().replace("int register_netdevice(", "int reg_nd("))
    (site,) = core_sites(plan(tricky, 1))
    assert site.outcome == "review" and not site.edits


# --- stage 2: include/net/rtnetlink.h and generic_newlink_deps ---------------------------------


DECOY = ("struct rtnl_af_decoy {\n"
         "\tint\t\t\t(*newlink)(struct net *src_net,\n"
         "\t\t\t\t\t   struct net_device *dev);\n"
         "\tint\t\t\t(*changelink)(struct net_device *dev);\n"
         "};\n\n")


def qmux_tree(tree: Path) -> Path:
    shutil.copytree(SAMPLE, tree)
    (tree / "drivers/net/qmux").mkdir(parents=True)
    for src in sorted(QMUX.glob("*.c")):
        shutil.copy(src, tree / "drivers/net/qmux" / src.name)
    (tree / "drivers/net/qmux/Makefile").write_text(
        "obj-m += qmux.o\nqmux-objs := qmux_config.o qmux_vnd.o\n")
    return tree


needs_cases = pytest.mark.skipif(not QMUX.is_dir(), reason=f"{QMUX} not available")


def test_rtnetlink_members_before_callbacks_of_rtnl_link_ops(tmp_path: Path) -> None:
    """A struct before rtnl_link_ops with (*newlink)/(*changelink) members is left alone."""
    tree = tmp_path / "tree"
    shutil.copytree(SAMPLE, tree)
    header = tree / "include/net/rtnetlink.h"
    text = header.read_text()
    header.write_text(text.replace("/**\n * struct rtnl_link_ops", DECOY +
                                   "/**\n * struct rtnl_link_ops"))
    out = applied(tree, plan(tree, 2))["include/net/rtnetlink.h"]
    decoy = find_struct(out, "rtnl_af_decoy")
    ops = find_struct(out, "rtnl_link_ops")
    assert decoy is not None and ops is not None
    assert not decoy.has_member("newlink_deps") and not decoy.has_member("changelink_deps")
    names = [n for m in ops.members for n in m.names]
    assert names[names.index("newlink") - 1] == "newlink_deps"
    assert names[names.index("changelink") - 1] == "changelink_deps"
    assert b" * @newlink_deps: Devices @newlink looks up by ifindex\n * @newlink:" in out
    assert find_struct(out, "link_deps") is not None
    # above the kernel-doc of struct rtnl_link_ops, which stays attached to it
    assert out.index(b"struct rtnl_af_decoy {") < out.index(b"struct link_deps {") < \
        out.index(b"/**\n * struct rtnl_link_ops")


@needs_cases
def test_generic_newlink_deps_defined_and_exported_when_used(tmp_path: Path) -> None:
    tree = qmux_tree(tmp_path / "tree")
    the_plan = plan(tree, 2)
    out = applied(tree, the_plan)
    assert "\t.newlink_deps\t= &generic_newlink_deps,\n" in \
        out["drivers/net/qmux/qmux_config.c"].decode()
    rtnl_c = out["net/core/rtnetlink.c"]
    assert find_declaration(rtnl_c, "generic_newlink_deps", extern=False) is not None
    assert ("EXPORT_SYMBOL(rtnl_create_link);\n\n"
            "struct link_deps generic_newlink_deps = {\n"
            "\t.mandatory.tb = { IFLA_LINK, },\n};\n"
            "EXPORT_SYMBOL_GPL(generic_newlink_deps);\n\n") in rtnl_c.decode()
    # the definition is in the core patch's site, with the rtnetlink.h declarations
    (site,) = core_sites(the_plan)
    assert {e.file for e in site.edits} == {"include/net/rtnetlink.h", "net/core/rtnetlink.c"}
    # idempotent: the converted tree has nothing left for the core
    write_back(tree, out)
    assert core_sites(plan(tree, 2)) == []


@needs_cases
def test_generic_newlink_deps_added_to_existing_link_deps(tmp_path: Path) -> None:
    """The tree has struct link_deps (an earlier stage 2 used driver tables only); now
    a driver needs generic_newlink_deps: declared after struct link_deps and defined."""
    tree = qmux_tree(tmp_path / "tree")
    header = tree / "include/net/rtnetlink.h"
    full = applied(tree, plan(tree, 2))["include/net/rtnetlink.h"].decode()
    header.write_text(full.replace("extern struct link_deps generic_newlink_deps;\n\n", ""))
    (site,) = core_sites(plan(tree, 2))
    out = applied(tree, plan(tree, 2))
    assert {e.file for e in site.edits} == {"include/net/rtnetlink.h", "net/core/rtnetlink.c"}
    assert "\tstruct link_deps_table optional;\n};\n\nextern struct link_deps " \
        "generic_newlink_deps;\n\n/**" in out["include/net/rtnetlink.h"].decode()


def test_generic_newlink_deps_not_defined_when_unused(tmp_path: Path) -> None:
    """Only a driver table (data[IFLA_QUX_LINK]): rtnetlink.c is not touched."""
    tree = tmp_path / "tree"
    (tree / "drivers/net").mkdir(parents=True)
    shutil.copytree(SAMPLE / "include", tree / "include")
    shutil.copytree(SAMPLE / "net/core", tree / "net/core")
    shutil.copy(SAMPLE / "drivers/net/qux.c", tree / "drivers/net/qux.c")
    the_plan = plan(tree, 2)
    out = applied(tree, the_plan)
    assert "&qux_newlink_deps" in out["drivers/net/qux.c"].decode()
    assert "generic_newlink_deps" not in out["drivers/net/qux.c"].decode()
    assert "net/core/rtnetlink.c" not in out
    # nor declared: every object the series declares is defined by it
    assert b"generic_newlink_deps" not in out["include/net/rtnetlink.h"]
    assert find_struct(out["include/net/rtnetlink.h"], "link_deps") is not None
    (site,) = core_sites(the_plan)
    assert {e.file for e in site.edits} == {"include/net/rtnetlink.h"}


# --- end to end: the master-link-in-newlink case through stage 1-2 --with-core -----------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


def added_lines(repo: Path, base: str) -> dict[str, list[tuple[int, str]]]:
    """Added lines per file of `git diff base HEAD` (line numbers of the new text)."""
    out: dict[str, list[tuple[int, str]]] = {}
    path, number = "", 0
    for line in git(repo, "diff", "-U0", "--no-color", base, "HEAD").splitlines():
        if line.startswith("+++ "):
            path = line[6:]
        elif line.startswith("@@"):
            number = int(line.split("+", 1)[1].split(",")[0].split(" ")[0])
        elif line.startswith("+"):
            out.setdefault(path, []).append((number, line[1:]))
            number += 1
    return out


@needs_cases
def test_master_link_case_stages_1_2_complete(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    repo = qmux_tree(tmp_path / "repo")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test Dev")
    git(repo, "config", "user.email", "dev@example.org")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    out = tmp_path / "out"
    rc = cli.main(["stage", "1-2", "--with-core", "--tree", str(repo), "--out", str(out),
                   "--no-cache", "-j", "1"])
    assert rc == 0, capsys.readouterr().err
    base = git(repo, "rev-parse", "HEAD").strip()
    for stage in ("stage-1", "stage-2"):
        for patch in sorted((out / stage).glob("*.patch")):
            if not patch.name.startswith("0000-"):
                git(repo, "am", "-q", "--keep-cr", str(patch))
    added = added_lines(repo, base)
    assert "net/core/rtnetlink.c" in added and "drivers/net/qmux/qmux_config.c" in added
    assert check_completeness(repo, added, API) == []
    # the converted tree: the core has nothing left to add in either stage
    assert core_sites(plan(repo, 1)) == [] and core_sites(plan(repo, 2)) == []


OLD_OUTPUT_API = """\
/* Per-device lock replacing RTNL for configuration: mutex + devices + refcount */
bool lock_netdev(struct net_device *dev, struct nd_lock **nd_lock);
void unlock_netdev(struct nd_lock *nd_lock);
extern struct nd_lock fallback_nd_lock;

"""


def test_old_output_is_completed(tricky: Path) -> None:
    """A tree with the earlier faulty core patch (struct nd_lock only declared, the
    member at the end of struct packet_type): struct nd_lock is defined above the
    prototypes and their comment, and struct net_device gets the member."""
    header = tricky / "include/linux/netdevice.h"
    text = header.read_text()
    text = text.replace("/**\n *\tstruct net_device - ", "struct nd_lock;\n\n/**\n"
                        " *\tstruct net_device - ")
    text = text.replace("int register_netdevice(", OLD_OUTPUT_API + "int register_netdevice(")
    text = text.replace("\tstruct list_head\tlist;\n};\n\nstruct offload_callbacks",
                        "\tstruct list_head\tlist;\n\tstruct nd_lock __rcu\t*nd_lock;\n};\n\n"
                        "struct offload_callbacks")
    header.write_text(text)
    out = applied(tricky, plan(tricky, 1))
    after = out["include/linux/netdevice.h"]
    assert find_struct(after, "net_device").has_member("nd_lock")  # type: ignore[union-attr]
    assert find_struct(after, "nd_lock") is not None
    assert after.count(b"bool lock_netdev(") == 1
    assert b"\trefcount_t\t\tusage;\n\tstruct rcu_head\t\trcu;\n};\n\n/* Per-device lock" in after
    assert find_declaration(out["net/core/dev.c"], "fallback_nd_lock", extern=False)


def test_layout_table_gets_the_member(tricky: Path) -> None:
    """struct net_device asks for Documentation/networking/net_cachelines/net_device.rst
    to list new fields: with the option set, the row goes after the field the member
    follows."""
    doc = tricky / "Documentation/networking/net_cachelines/net_device.rst"
    doc.parent.mkdir(parents=True)
    rows = ("Type                                Name                    Comments\n"
            "struct hlist_head                   page_pools\n"
            "struct dim_irq_moder*               irq_moder\n"
            "u8                                  priv_len\n")
    doc.write_text(rows)
    assert str(doc.relative_to(tricky)) not in applied(tricky, plan(tricky, 1))  # off
    out = applied(tricky, plan(tricky, 1, layout_doc=str(doc.relative_to(tricky))))
    assert out[str(doc.relative_to(tricky))].decode() == rows.replace(
        "irq_moder\n", "irq_moder\nstruct nd_lock*                     nd_lock\n")
