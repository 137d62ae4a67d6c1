#!/usr/bin/env bash
# Runs the segment codec JMH benchmarks. Scores are ops/s where one op = 1 MiB of page data,
# i.e. MiB/s. Arguments replace the JMH defaults (-f 1 -wi 2 -i 3 dev.walship.format.bench), e.g.
#   segment-format/bench.sh                                  # everything, short
#   segment-format/bench.sh -f 1 -wi 5 -i 10 "decodeVerify|baseline"
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/jdk.sh"
walship_select_jdk
cd "$root"
mvn -B -q -pl segment-format test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test >&2
cp="$root/segment-format/target/test-classes:$root/segment-format/target/classes:$(cat "$root/segment-format/target/bench-classpath.txt")"
if [ "$#" -eq 0 ]; then set -- -f 1 -wi 2 -i 3 'dev.walship.format.bench'; fi
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" org.openjdk.jmh.Main "$@"
