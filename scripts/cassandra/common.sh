# shellcheck shell=bash
# Shared settings and helpers for the scripts in scripts/cassandra/ (fetch, start, stop, nodetool,
# cluster, fault-test); sourced, never run.
# Every knob is an environment variable with a default, so CI and developers need no flags.

CASSANDRA_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CASSANDRA_HOME_DIR="${PROFICIO_CASSANDRA_HOME:-${HOME:-/root}/.cache/proficio/cassandra}"
CASSANDRA_LIB="$CASSANDRA_HOME_DIR/lib"
# The version in pom.xml is the single source of truth; the env var overrides it for one run.
CASSANDRA_VERSION="${PROFICIO_CASSANDRA_VERSION:-$(sed -n 's:.*<cassandra.version>\(.*\)</cassandra.version>.*:\1:p' "$CASSANDRA_SCRIPTS/pom.xml")}"
# Written into lib/ only after a complete copy; its content names the version it holds.
CASSANDRA_STAMP="$CASSANDRA_LIB/.proficio-cassandra-version"

cassandra_say() { printf 'cassandra: %s\n' "$*" >&2; }
cassandra_die() { printf 'cassandra: error: %s\n' "$*" >&2; exit 1; }

# True when lib/ already holds a complete copy of $CASSANDRA_VERSION.
cassandra_lib_ready() {
  [ -f "$CASSANDRA_STAMP" ] &&
    [ "$(cat "$CASSANDRA_STAMP")" = "$CASSANDRA_VERSION" ] &&
    [ -f "$CASSANDRA_LIB/cassandra-all-$CASSANDRA_VERSION.jar" ]
}

# Root on a Debian-like box may install missing packages; everyone else gets told which ones.
cassandra_can_apt() { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; }

cassandra_apt_install() {
  local log
  log="$(mktemp)"
  cassandra_say "installing $* with apt-get"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    cassandra_die "apt-get install $* failed"
  fi
  rm -f "$log"
}

# Prints the path of a JDK 17 `java`. Cassandra 5.0 runs on 11 or 17 only, and Debian bookworm
# ships 17; JDK 24+ can never work (Cassandra calls System.setSecurityManager).
# Order: PROFICIO_CASSANDRA_JAVA, $JAVA_HOME, `java` on PATH, Debian's install location.
cassandra_java17() {
  local candidate version
  for candidate in "${PROFICIO_CASSANDRA_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" \
    "$(command -v java 2>/dev/null || true)" /usr/lib/jvm/java-17-openjdk-*/bin/java; do
    if [ -z "$candidate" ] || [ ! -x "$candidate" ]; then continue; fi
    # Captured before matching: piping `java -version` into grep can trip pipefail via SIGPIPE.
    version="$("$candidate" -version 2>&1 || true)"
    case "$version" in
      *'version "17'*)
        printf '%s\n' "$candidate"
        return 0
        ;;
    esac
  done
  return 1
}

# Like cassandra_java17, but installs openjdk-17-jdk-headless when allowed. The full JDK (not
# the JRE) is wanted: the JVM flags name the jdk.compiler and jdk.attach modules.
cassandra_require_java17() {
  local java
  if java="$(cassandra_java17)"; then
    printf '%s\n' "$java"
    return 0
  fi
  cassandra_can_apt ||
    cassandra_die "JDK 17 not found (set PROFICIO_CASSANDRA_JAVA or JAVA_HOME); on Debian: apt-get install openjdk-17-jdk-headless"
  cassandra_apt_install openjdk-17-jdk-headless
  java="$(cassandra_java17)" || cassandra_die "openjdk-17-jdk-headless installed but no JDK 17 java found"
  printf '%s\n' "$java"
}

cassandra_require_mvn() {
  command -v mvn >/dev/null 2>&1 && return 0
  cassandra_can_apt || cassandra_die "mvn not found; on Debian: apt-get install maven"
  cassandra_apt_install maven
  command -v mvn >/dev/null 2>&1 || cassandra_die "maven installed but mvn is not on PATH"
}
