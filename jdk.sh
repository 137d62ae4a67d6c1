# Sourced by ./walship and ./run-tests: makes JAVA_HOME name a JDK >= 21.
# Order of preference: $JAVA_HOME, the `java` on PATH, then the newest JDK under /usr/lib/jvm.
walship_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
walship_select_jdk() {
  local cand major onpath=""
  if command -v java >/dev/null 2>&1; then
    onpath=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  fi
  for cand in "${JAVA_HOME:-}" "$onpath" $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    cand=${cand%/}
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
    major=$(walship_java_major "$cand")
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then
      export JAVA_HOME=$cand
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "walship: no JDK >= 21 found (looked at JAVA_HOME, java on PATH, /usr/lib/jvm/*)." >&2
  echo "walship: install one, e.g. 'apt-get install openjdk-21-jdk-headless', or set JAVA_HOME." >&2
  return 1
}

# Maven with quiet JDK warnings (Maven 3.8's bundled Guava uses sun.misc.Unsafe, which JDK 24+
# reports on every run) and no ANSI colour codes in logs.
walship_mvn() {
  local major
  major=$(walship_java_major "$JAVA_HOME")
  if [ -n "$major" ] && [ "$major" -ge 24 ]; then
    MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" mvn -Dstyle.color=never "$@"
  else
    mvn -Dstyle.color=never "$@"
  fi
}
