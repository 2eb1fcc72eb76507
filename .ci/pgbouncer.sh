# Sourced by .ci/run: ensure_pgbouncer installs Debian's pgbouncer package when missing. The PgBouncer tests
# (tests/Jobs.Sdk.Postgres.Tests/PgBouncerTests.cs) start /usr/sbin/pgbouncer themselves, as a child process with a
# generated ini in front of the test cluster; the package's systemd service is not used. When it cannot be installed
# those tests fail loudly (they never skip).
ensure_pgbouncer() {
  if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then
    return 0
  fi
  echo "pgbouncer missing: installing Debian's pgbouncer package"
  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q pgbouncer) >/dev/null 2>&1
  # The package enables a service listening on 6432; the tests run their own PgBouncer on free ports.
  (systemctl stop pgbouncer || service pgbouncer stop) >/dev/null 2>&1 || true
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]
}
