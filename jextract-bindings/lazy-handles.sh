#!/usr/bin/env bash
# Rewrites jextract's function holders in the directory $1 so that a downcall handle is linked
# only when used (see regenerate.sh, which runs this on jextract's output):
#
#     public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
#
# becomes a nested class Lazy holding HANDLE, and every "name.HANDLE" becomes
# "name.Lazy.HANDLE". Likewise a struct's array field's element handle,
#
#     private static final VarHandle f$ELEM_HANDLE = f$LAYOUT.varHandle(sequenceElement());
#
# becomes a nested class f$Elem holding HANDLE: making that var handle spins method handle
# forms (about 80 ms and 1.3 MB of heap in a fresh JVM for stat's __glibc_reserved), paid by
# every use of the struct although no one reads its padding arrays. Running it twice fails
# rather than nesting twice.
set -euo pipefail
dir=$1
if grep -rq 'class Lazy' "$dir"; then
    echo "lazy-handles.sh: $dir has been rewritten already" >&2
    exit 1
fi
find "$dir" -name '*.java' -print0 | LC_ALL=C sort -z | xargs -0 sed -i -E \
    -e 's/^( *)public static final MethodHandle HANDLE = (Linker\.nativeLinker\(\)\.downcallHandle\(ADDR, DESC\));$/\1static final class Lazy {\n\1    static final MethodHandle HANDLE = \2;\n\1}/' \
    -e 's/\b([A-Za-z_][A-Za-z0-9_]*)\.HANDLE\b/\1.Lazy.HANDLE/g' \
    -e 's/^( *)private static final VarHandle ([A-Za-z_][A-Za-z0-9_]*)\$ELEM_HANDLE = (.*);$/\1private static final class \2$Elem {\n\1    static final VarHandle HANDLE = \3;\n\1}/' \
    -e 's/\b([A-Za-z_][A-Za-z0-9_]*)\$ELEM_HANDLE\b/\1$Elem.HANDLE/g'
if grep -rn 'public static final MethodHandle HANDLE\|static final VarHandle [A-Za-z0-9_]*\$ELEM_HANDLE' "$dir" >&2; then
    echo "lazy-handles.sh: a handle was left eager (generated form changed?)" >&2
    exit 1
fi
