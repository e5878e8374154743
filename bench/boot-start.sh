#!/bin/sh
# How fast a child JVM starts from a Spring Boot 4.0 executable jar: through Boot's
# PropertiesLauncher (loader.main) versus from the nested jars extracted to plain files (what
# the library does, internal/spawn/BootJars). The "child" loads the library and Fory and
# round-trips a list, as a child does before its target. Usage, from the project root:
#   ./mvnw -q package -DskipTests && bench/boot-start.sh [runs]
set -e
J=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin
RUNS=${1:-10}
M2=$HOME/.m2/repository
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/src/demo" "$W/classes"
CP=$(ls target/multiprocessing-*.jar | head -1):$M2/org/apache/fory/fory-core/1.6.0/fory-core-1.6.0.jar:$M2/org/codehaus/janino/janino/3.1.12/janino-3.1.12.jar:$M2/org/codehaus/janino/commons-compiler/3.1.12/commons-compiler-3.1.12.jar
cat > "$W/src/demo/Hello.java" <<'JAVA'
package demo;
public class Hello { public static void main(String[] a) {
  System.out.println(multiprocessing.internal.reduction.Serialization.deserialize(
      multiprocessing.internal.reduction.Serialization.serialize(new java.util.ArrayList<>(java.util.List.of(1, 2)))));
} }
JAVA
"$J/javac" -d "$W/classes" -cp "$CP" "$W/src/demo/Hello.java"
# shellcheck disable=SC2046
JDK_BIN=$J "$(dirname "$0")/make-boot-jar" "$W/app.jar" demo.Hello "$W/classes" $(echo "$CP" | tr ':' ' ')
mkdir -p "$W/x" && (cd "$W/x" && unzip -q ../app.jar 'BOOT-INF/*')
XCP=$W/app.jar:$W/x/BOOT-INF/classes:$(ls "$W"/x/BOOT-INF/lib/*.jar | tr '\n' ':')
F="-XX:+UseSerialGC -XX:-UsePerfData --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
ms() { s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
: > "$W/extracted"; : > "$W/props"
i=0
while [ $i -lt "$RUNS" ]; do
  ms "$J/java" $F -cp "$XCP" demo.Hello >> "$W/extracted"
  ms "$J/java" $F -cp "$W/app.jar" -Dloader.main=demo.Hello org.springframework.boot.loader.launch.PropertiesLauncher >> "$W/props"
  i=$((i + 1))
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "extracted nested jars: median $(median "$W/extracted") ms of $RUNS"
echo "Boot PropertiesLauncher: median $(median "$W/props") ms of $RUNS"
