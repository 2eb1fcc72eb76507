#!/usr/bin/env bash
# Regenerates PublicAPI.Unshipped.txt of every shipped project under src/ from the code (Microsoft.CodeAnalysis.PublicApiAnalyzers).
#
#   bash .ci/public-api.sh            # all projects under src/
#   bash .ci/public-api.sh src/Jobs.Sdk/Jobs.Sdk.csproj
#
# How: each Unshipped file is emptied (PublicAPI.Shipped.txt is left alone), the project is rebuilt with warnings not
# treated as errors, and every public symbol the analyzer reports as undeclared (RS0016, whose message is the exact
# API-file line) is written back, sorted. Symbols listed in Shipped but gone from the code (RS0017: a breaking change) are
# printed, never removed automatically. Review the diff of the Unshipped files before committing; at a release, move
# the Unshipped lines into Shipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -gt 0 ]; then projects=("$@"); else mapfile -t projects < <(find src -name '*.csproj' | sort); fi

for project in "${projects[@]}"; do
  dir=$(dirname "$project")
  [ -f "$dir/PublicAPI.Shipped.txt" ] || printf '#nullable enable\n' > "$dir/PublicAPI.Shipped.txt"
  printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
  log=$(mktemp)
  dotnet build "$project" --no-incremental -nologo -clp:NoSummary -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= >"$log" 2>&1 || true
  # Only this project's own diagnostics (a dependency's are handled in its own pass).
  full=$(cd "$dir" && pwd)/$(basename "$project")
  grep -F "[$full]" "$log" | grep -oP "warning RS0016: Symbol '\K.*(?=' is not part of the declared public API)" | LC_ALL=C sort -u >> "$dir/PublicAPI.Unshipped.txt" || true
  removed=$(grep -F "[$full]" "$log" | grep -oP "warning RS0017: Symbol '\K.*(?=' is part of the declared API)" | LC_ALL=C sort -u || true)
  if grep -q " error " "$log"; then
    echo "public-api: $project has build errors:" >&2
    grep " error " "$log" | sort -u | head -20 >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  echo "public-api: $dir/PublicAPI.Unshipped.txt: $(($(wc -l < "$dir/PublicAPI.Unshipped.txt") - 1)) symbols"
  if [ -n "$removed" ]; then
    echo "public-api: $dir: in PublicAPI.Shipped.txt but no longer in the code (breaking; edit Shipped by hand):" >&2
    echo "$removed" >&2
  fi
done
