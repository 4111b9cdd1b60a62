"""Verification of a rewrite, independent of the code that makes edits (SPEC §7).

Reads only the original and the patched text (or a written series) and the
rule set's declared acquire/release pairs; never the rules' internals, so a
bug in a rule cannot hide from it.

Modules (one check each):

* ``model``     -- ``Violation``, ``LockPair``: the typed results and inputs.
* ``cfg``       -- control-flow graph of one C function from its tree-sitter tree.
* ``locks``     -- lock balance on every path of a rewritten function.
* ``preserve``  -- comments and preprocessor lines outside the edits stay.
* ``complete``  -- every API identifier an added line uses is declared after the
                   series; every object the series declares is defined by it.
* ``build``     -- the kernel's own build, patch by patch (``make O=...``).
* ``series``    -- ``migrate verify``: all of the above over a written series.
"""
