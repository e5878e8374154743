#!/usr/bin/env bash
# Regenerates the committed jextract bindings in src/main/java from libc.h + libc.options.
#
#   JEXTRACT=/path/to/jextract ./regenerate.sh
#
# JEXTRACT must point to a jextract launcher (built separately from the
# openjdk/jextract sources, see README.md). The output is deterministic for a
# given jextract, libclang and set of system headers: re-running it must leave
# `git diff` empty.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ -z "${JEXTRACT:-}" ]]; then
    echo "regenerate.sh: JEXTRACT is not set; run as JEXTRACT=/path/to/jextract $0" >&2
    exit 1
fi
if ! command -v "$JEXTRACT" >/dev/null 2>&1; then
    echo "regenerate.sh: JEXTRACT=$JEXTRACT is not an executable" >&2
    exit 1
fi

PKG_DIR=src/main/java/multiprocessing/internal/libc

"$JEXTRACT" --version >&2

rm -rf "$PKG_DIR"
"$JEXTRACT" @libc.options libc.h

# jextract emits SymbolLookup.findOrThrow(name), a JDK 23 API. The library
# compiles with --release 22, so rewrite it to find(name).orElseThrow().
find "$PKG_DIR" -name '*.java' -print0 | LC_ALL=C sort -z \
    | xargs -0 sed -i -E 's/\.findOrThrow\(("[^"]*")\)/.find(\1).orElseThrow()/g'

if grep -rn 'findOrThrow' "$PKG_DIR" >&2; then
    echo "regenerate.sh: findOrThrow calls left after the rewrite (generated form changed?)" >&2
    exit 1
fi

# jextract links each function's downcall handle in the initializer of the function's holder
# class, which any of its accessors runs, the address and descriptor ones too. The hand-written
# layer (multiprocessing.internal.posix.Errno) links its own handle from the address and the
# descriptor, capturing errno, so jextract's was linked for nothing; in a fresh JVM every
# linking costs milliseconds of generated classes (bench/RESULTS.md, eighth session). Move the
# handle into a nested holder, linked only if something uses it.
./lazy-handles.sh "$PKG_DIR"

echo "regenerate.sh: generated $(find "$PKG_DIR" -name '*.java' | wc -l) files in $PKG_DIR" >&2
