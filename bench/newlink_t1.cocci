// SPDX-License-Identifier: GPL-2.0-only
/// Stage 2 / T1 yardstick: in code run by rtnetlink's .newlink / .changelink
/// (the callback itself and the same-file functions it calls directly),
/// register_netdevice() -> __register_netdevice() and
/// unregister_netdevice() -> __unregister_netdevice().
///
/// Depth 2 only: callback + its direct callees in the same file.
//
// Options: --no-includes --include-headers-for-types

virtual patch

// ---- the callbacks: .newlink / .changelink of a struct rtnl_link_ops initializer
@ops@
identifier ops_var, cb;
identifier fld = {newlink, changelink};
@@
struct rtnl_link_ops ops_var = {
	.fld = cb,
};

// ---- depth 1: the callback itself
@t1_cb@
identifier ops.cb;
expression E;
@@
cb(...)
{
<...
(
- register_netdevice(E)
+ __register_netdevice(E)
|
- unregister_netdevice(E)
+ __unregister_netdevice(E)
)
...>
}

// ---- functions the callback calls directly
@callee@
identifier ops.cb, fn;
@@
cb(...)
{
<... fn(...) ...>
}

// ---- depth 2: those callees, when defined in this file
@t1_callee@
identifier callee.fn;
expression E;
@@
fn(...)
{
<...
(
- register_netdevice(E)
+ __register_netdevice(E)
|
- unregister_netdevice(E)
+ __unregister_netdevice(E)
)
...>
}
