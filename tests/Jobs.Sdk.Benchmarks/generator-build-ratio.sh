#!/usr/bin/env bash
# Measures what the Jobs.Sdk source generator costs a build: generates a project with N simple [Job] types, compiles it
# with and without the generator, and prints both times, their ratio and the generated lines per job.
#
#   tests/Jobs.Sdk.Benchmarks/generator-build-ratio.sh [N=200] [RUNS=3]
#
# Each measurement is the CPU time (and, printed alongside, the wall-clock time) of a full recompile of the generated project (`dotnet build --no-incremental
# --no-dependencies`) after one warm-up build, so restore and Jobs.Sdk itself are not counted. The two builds alternate
# (one pair per run) and the ratio is the median of the pairs' ratios, so a change in the machine's load between runs
# moves both sides of a pair alike. The target (issue 14) is a ratio of at most 2.0 at N = 200.
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

# CPU milliseconds (user + system) and wall-clock milliseconds of one full recompile, as "cpu wall": the build runs in one
# process (-m:1, no node reuse) and the compiler as its child (no shared compiler server), so /usr/bin/time sees all of
# it. CPU time, unlike wall time, stays meaningful on a machine shared with other builds; the wall time is printed too
# because it is what a user waits for (the issue's 3.5 s -> 16.7 s were wall times).
build_ms() {
  /usr/bin/time -f "%U %S %e" -o "$WORK/time.txt" \
    dotnet build "$1/Bench.csproj" -c Release -nologo -v q --no-restore --no-incremental --no-dependencies \
      -m:1 -nodeReuse:false -p:UseSharedCompilation=false >/dev/null
  awk '{ printf "%d %d", ($1 + $2) * 1000, $3 * 1000 }' "$WORK/time.txt"
}

# "median min max" of a list of numbers.
stats() {
  local sorted count
  sorted=$(printf '%s\n' "$@" | sort -g)
  count=$#
  echo "$(sed -n "$(((count + 1) / 2))p" <<<"$sorted") $(head -n1 <<<"$sorted") $(tail -n1 <<<"$sorted")"
}

make_project "$WORK/without" false
make_project "$WORK/with" true
dotnet build "$WORK/without/Bench.csproj" -c Release -nologo -v q >/dev/null # restore + warm-up
dotnet build "$WORK/with/Bench.csproj" -c Release -nologo -v q >/dev/null

# The two builds alternate, so each run's pair sees about the same machine load; the ratio is taken per pair.
without_times=() with_times=() ratios=() without_walls=() with_walls=() wall_ratios=()
for _ in $(seq 1 "$RUNS"); do
  read -r w0 wall0 <<<"$(build_ms "$WORK/without")"
  read -r w1 wall1 <<<"$(build_ms "$WORK/with")"
  without_times+=("$w0")
  with_times+=("$w1")
  without_walls+=("$wall0")
  with_walls+=("$wall1")
  ratios+=("$(awk -v a="$w1" -v b="$w0" 'BEGIN { printf "%.2f", a / b }')")
  wall_ratios+=("$(awk -v a="$wall1" -v b="$wall0" 'BEGIN { printf "%.2f", a / b }')")
done

read -r without_ms without_min without_max <<<"$(stats "${without_times[@]}")"
read -r with_ms with_min with_max <<<"$(stats "${with_times[@]}")"
read -r ratio_median ratio_min ratio_max <<<"$(stats "${ratios[@]}")"
read -r without_wall without_wall_min without_wall_max <<<"$(stats "${without_walls[@]}")"
read -r with_wall with_wall_min with_wall_max <<<"$(stats "${with_walls[@]}")"
read -r wall_ratio_median wall_ratio_min wall_ratio_max <<<"$(stats "${wall_ratios[@]}")"

generated_dir="$WORK/with/obj/Release/net10.0/generated/Jobs.Sdk.Generators/Jobs.Sdk.Generators.JobGenerator"
total_lines=$(cat "$generated_dir"/Bench.Job*.g.cs | wc -l)

echo "jobs:                       $N"
echo "build without generator:    ${without_ms} ms CPU (median of $RUNS; range ${without_min}-${without_max})"
echo "build with generator:       ${with_ms} ms CPU (median of $RUNS; range ${with_min}-${with_max})"
echo "ratio (with / without):     ${ratio_median} (median of the $RUNS back-to-back pairs; range ${ratio_min}-${ratio_max}; pairs: ${ratios[*]})"
echo "wall clock without / with:  ${without_wall} ms (${without_wall_min}-${without_wall_max}) / ${with_wall} ms (${with_wall_min}-${with_wall_max}); ratio ${wall_ratio_median} (range ${wall_ratio_min}-${wall_ratio_max}; pairs: ${wall_ratios[*]})"
echo "generated lines per job:    $((total_lines / N)) (7 members: Guid, string, string?, int, DateTimeOffset, enum, List<string>)"
