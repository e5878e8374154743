#!/usr/bin/env python3
"""Milestones of a child JVM's start from its -Xlog:class+load,startuptime (uptime) log.

boot: JVM up (startuptime "Create VM"); lib: to the first Fory class loaded after that (the
library's own start: ChildMain, reading the bootstrap, registering its classes); fory: to the
multiprocessing.Process$Builder, the first class the deserialization loads (building Fory); deser: to the user's lambda
class (deserializing the process and its lambda); then to the last line (the target, the
process bootstrap, up to exit). With an AOT cache the archived classes show as loaded before
"Create VM", so lib+fory are one figure there. Prints medians over the logs given.
"""
import re, statistics, sys

def phases(path):
    t = lambda line: float(re.match(r"\[(\d+\.\d+)s\]", line).group(1)) * 1000
    vm = fory = proc = lam = last = None
    archived = False
    loaded = {"shared objects file": 0, "jrt": 0, "file": 0, "generated": 0}
    for line in open(path):
        if not line.startswith("["):
            continue
        last = t(line)
        if "Create VM" in line:
            vm = last
            continue
        m = re.match(r"\[[^]]*\] (\S+) source: (.*)", line)
        if not m:
            continue
        name, src = m.groups()
        if src.startswith("shared objects file"):
            loaded["shared objects file"] += 1
        elif src.startswith("jrt:"):
            loaded["jrt"] += 1
        elif src.startswith("file:"):
            loaded["file"] += 1
        else:
            loaded["generated"] += 1
        if name == "org.apache.fory.Fory":
            archived = src.startswith("shared objects file")
        if vm is None:
            continue
        if fory is None and name.startswith("org.apache.fory."):
            fory = last
        if proc is None and name == "multiprocessing.Process$Builder":
            proc = last
        if lam is None and "$$Lambda" in name and not name.startswith(("multiprocessing.", "org.apache", "java.", "jdk.", "sun.")):
            lam = last
    if lam is None or proc is None:
        return None
    return dict(boot=vm, lib_fory=proc - vm, lib=float("nan") if archived else fory - vm,
                fory=float("nan") if archived else proc - fory, deser=lam - proc, rest=last - lam,
                total=last, **loaded)

rows = [phases(p) for p in sys.argv[1:]]
rows = [r for r in rows if r]  # a trainer's log has no user lambda
for k in rows[0]:
    print(f"{k:22s} {statistics.median(r[k] for r in rows):8.1f}")
