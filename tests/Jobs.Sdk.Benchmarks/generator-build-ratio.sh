#!/usr/bin/env bash
# Measures what the Jobs.Sdk source generator costs a build: generates a project with N simple [Job] types, compiles it
# with and without the generator, and prints both times, their ratio and the generated lines per job.
#
#   tests/Jobs.Sdk.Benchmarks/generator-build-ratio.sh [N=200] [RUNS=3]
#
# Each measurement is the CPU time of a full recompile of the generated project (`dotnet build --no-incremental
# --no-dependencies`) after one warm-up build, so restore and Jobs.Sdk itself are not counted; the median of RUNS is
# reported. The target (issue 14) is a ratio of at most 2.0 at N = 200.
set -euo pipefail

N="${1:-200}"
RUNS="${2:-3}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/jobs-gen-ratio.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# Jobs.Sdk and the generator are built once, outside the measurement.
dotnet build "$REPO/src/Jobs.Sdk/Jobs.Sdk.csproj" -c Release -nologo -v q >/dev/null
dotnet build "$REPO/generators/Jobs.Sdk.Generators/Jobs.Sdk.Generators.csproj" -c Release -nologo -v q >/dev/null

make_project() {
  local dir="$1" with_generator="$2"
  mkdir -p "$dir"
  cat >"$dir/Bench.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$REPO/src/Jobs.Sdk/Jobs.Sdk.csproj" />
  </ItemGroup>
  <ItemGroup Condition="'$with_generator' == 'true'">
    <Analyzer Include="$REPO/generators/Jobs.Sdk.Generators/bin/Release/netstandard2.0/Jobs.Sdk.Generators.dll" />
  </ItemGroup>
</Project>
EOF
  {
    echo "using Jobs.Sdk;"
    echo "namespace Bench;"
    echo "public enum Channel { Email, Sms, Push }"
    for i in $(seq 1 "$N"); do
      echo "[Job(\"job-$i\", MaxAttempts = 3)]"
      echo "public partial record Job$i(Guid Id, string Name, string? Note, int Count, DateTimeOffset At, Channel Channel, List<string> Tags);"
    done
  } >"$dir/Jobs.cs"
}

# CPU seconds (user + system) of one full recompile: the build runs in one process (-m:1, no node reuse) and the compiler
# as its child (no shared compiler server), so /usr/bin/time sees all of it. CPU time, unlike wall time, stays meaningful
# on a machine shared with other builds.
measure() {
  local dir="$1" times=()
  dotnet build "$dir/Bench.csproj" -c Release -nologo -v q >/dev/null # restore + warm-up
  for _ in $(seq 1 "$RUNS"); do
    /usr/bin/time -f "%U %S" -o "$WORK/time.txt" \
      dotnet build "$dir/Bench.csproj" -c Release -nologo -v q --no-restore --no-incremental --no-dependencies \
        -m:1 -nodeReuse:false -p:UseSharedCompilation=false >/dev/null
    times+=("$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$WORK/time.txt")")
  done
  # "median min max" of the runs (the spread shows how much the machine's load moved the figure).
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  echo "$(sed -n "$(((RUNS + 1) / 2))p" <<<"$sorted") $(head -n1 <<<"$sorted") $(tail -n1 <<<"$sorted")"
}

make_project "$WORK/without" false
make_project "$WORK/with" true

without=$(measure "$WORK/without")
with=$(measure "$WORK/with")
read -r without_ms without_min without_max <<<"$without"
read -r with_ms with_min with_max <<<"$with"

generated_dir="$WORK/with/obj/Release/net10.0/generated/Jobs.Sdk.Generators/Jobs.Sdk.Generators.JobGenerator"
total_lines=$(cat "$generated_dir"/Bench.Job*.g.cs | wc -l)

echo "jobs:                       $N"
echo "build without generator:    ${without_ms} ms CPU (median of $RUNS; range ${without_min}-${without_max})"
echo "build with generator:       ${with_ms} ms CPU (median of $RUNS; range ${with_min}-${with_max})"
awk -v a="$with_ms" -v b="$without_ms" -v lo="$with_min" -v hi="$with_max" -v blo="$without_min" -v bhi="$without_max" \
  'BEGIN { printf "ratio (with / without):     %.2f (extremes %.2f-%.2f)\n", a / b, lo / bhi, hi / blo }'
echo "generated lines per job:    $((total_lines / N)) (7 members: Guid, string, string?, int, DateTimeOffset, enum, List<string>)"
