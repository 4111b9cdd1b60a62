#!/usr/bin/env bash
# Build the stage series of the bundled sample tree (corpus/sample) the way a
# user would on a kernel tree: make it a git repository, then `migrate stage`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stages=${1:-2}
shift || true  # the rest goes to `migrate stage` (e.g. --with-core)
out=${MIGRATE_DEMO_OUT:-$PWD/migrate-out}
work=$(mktemp -d "${TMPDIR:-/tmp}/migrate-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -a "$here/sample/." "$work/"
git -C "$work" init -q
git -C "$work" config user.name "Migrate Demo"
git -C "$work" config user.email "demo@example.org"
git -C "$work" add -A
git -C "$work" commit -q -m "Sample tree"
rm -rf "$out"
migrate stage "$stages" --tree "$work" --out "$out" "$@"
echo "series written to $out:"
find "$out" -name '*.patch' | sort
