# Sourced by .ci/run: ensure_chromium installs Debian's chromium when missing. The dashboard's browser tests drive
# /usr/bin/chromium with Playwright (browsers cannot be downloaded here; never `playwright install`). When it cannot be
# installed the browser tests fail loudly (they never skip).
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    return 0
  fi
  echo "chromium missing: installing Debian's chromium package"
  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null 2>&1
  command -v chromium >/dev/null 2>&1
}
