#!/bin/sh
# Per-start times and child phases for the three cases of bench/RESULTS.md ("Where a spawn's milliseconds go").
# Usage: run.sh WORKDIR LIBJAR DEPS [N]   (WORKDIR gets classes/, app.jar, caches, logs)
set -e
W=$1 LIB=$2 DEPS=$3 N=${4:-12}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
JDK=$(dirname "$JAVA")
HERE=$(cd "$(dirname "$0")" && pwd)
OPTS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
mkdir -p "$W/classes" "$W/logs"
"$JDK/javac" -d "$W/classes" -cp "$LIB" "$HERE/SpawnTimes.java"
LOG="-Xlog:class+load=info,startuptime:file=$W/logs/CASE-%p.log:uptime"
spawn() { # case cp cachedir n [log]
  c=$1 cp=$2 dir=$3 n=$4; shift 4
  "$JAVA" $OPTS $POPTS -Dmultiprocessing.cacheDir="$dir" -cp "$cp" SpawnTimes "$n" "$@" | tail -1 | sed "s/^/$c: /"
}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
# (a) user classes in a directory
spawn a "$W/classes:$LIB:$DEPS" "$W/cache-a" "$N"
spawn a-log "$W/classes:$LIB:$DEPS" "$W/cache-a" 6 "$(echo "$LOG" | sed s/CASE/a/)"
# (b) a jar built a moment ago: its children run with no archive until the trainer started
# beside the first one has written it; -Dmultiprocessing.aotCache=false holds that state
(cd "$W/classes" && "$JDK/jar" cf ../app.jar SpawnTimes*.class)
POPTS=-Dmultiprocessing.aotCache=false spawn b "$W/app.jar:$LIB:$DEPS" "$W/cache-b" "$N"
POPTS=-Dmultiprocessing.aotCache=false spawn b-log "$W/app.jar:$LIB:$DEPS" "$W/cache-b" 6 "$(echo "$LOG" | sed s/CASE/b/)"
# the very first start in a parent (the parent is cold too), and the trainer beside it
for i in 1 2 3; do
  rm -rf "$W/cache-b"
  spawn b-first "$W/app.jar:$LIB:$DEPS" "$W/cache-b" 1
  sleep 8 # the trainer finishes
done
# (c) the same jar, its cache trained
spawn c "$W/app.jar:$LIB:$DEPS" "$W/cache-b" "$N"
spawn c-log "$W/app.jar:$LIB:$DEPS" "$W/cache-b" 6 "$(echo "$LOG" | sed s/CASE/c/)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in a b c; do echo "== phases $c (ms, median)"; python3 "$HERE/phases.py" "$W"/logs/$c-*.log; done
