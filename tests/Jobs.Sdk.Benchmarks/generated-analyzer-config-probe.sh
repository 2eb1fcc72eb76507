#!/usr/bin/env bash
# Checks whether the compiler of the installed .NET SDK applies per-file analyzer configuration (.editorconfig sections,
# global-config path sections) to source-generated files. Issue 14's build cost could drop by the SDK analyzers' time on
# the generated code (CA2252, CA1856/CA1857) if Jobs.Sdk could set their severity to `none` for its generated files only:
# Roslyn's analyzer driver skips an analyzer on a syntax tree when every diagnostic it reports is suppressed for that tree.
# That needs the compiler to give generated trees the per-file options, which the compiler shipped with SDK 10.0.401
# (5.9.0) does not (dotnet/roslyn#47384). Rerun this after an SDK update; when it prints "yes", the idea becomes possible.
#
#   tests/Jobs.Sdk.Benchmarks/generated-analyzer-config-probe.sh
#
# How: a one-job project whose job uses an [Obsolete] enum, so the generated file gets CS0618 warnings, and an
# .editorconfig with `[*.cs] dotnet_diagnostic.CS0618.severity = error`. The user's own uses are under
# `#pragma warning disable`, so the build fails only if the section reaches the generated file. A control build without
# the pragma shows that the same section does reach the user's file.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/jobs-config-probe.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

dotnet build "$REPO/generators/Jobs.Sdk.Generators/Jobs.Sdk.Generators.csproj" -c Release -nologo -v q >/dev/null

cat >"$WORK/Probe.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$REPO/src/Jobs.Sdk/Jobs.Sdk.csproj" />
    <Analyzer Include="$REPO/generators/Jobs.Sdk.Generators/bin/Release/netstandard2.0/Jobs.Sdk.Generators.dll" />
  </ItemGroup>
</Project>
EOF
printf 'root = true\n\n[*.cs]\ndotnet_diagnostic.CS0618.severity = error\n' >"$WORK/.editorconfig"

write_job() {
  local pragma="$1"
  {
    echo "using Jobs.Sdk;"
    echo "namespace Probe;"
    [ "$pragma" = true ] && echo "#pragma warning disable CS0618"
    echo "[System.Obsolete(\"probe\")] public enum Channel { Email, Sms }"
    echo "[Job(\"probe\")] public partial record ProbeJob(Channel Channel);"
    [ "$pragma" = true ] && echo "#pragma warning restore CS0618"
    true
  } >"$WORK/Job.cs"
}

# Prints the CS0618 lines of a build as "error"/"warning" and where (generated or user file).
build() {
  dotnet build "$WORK/Probe.csproj" -c Release -nologo -v q --no-incremental 2>&1 | grep -E "CS0618" |
    sed -E 's#.*/(Jobs.Sdk.Generators.JobGenerator/[^(]*|Job\.cs)\([0-9,]*\): (error|warning) CS0618.*#\2 \1#' | sort -u || true
}

write_job false
control=$(build)
write_job true
probe=$(build)

echo "compiler: $(dotnet --version) SDK"
echo "control (user file not under #pragma): $(tr '\n' ';' <<<"$control")"
echo "probe (only generated files report CS0618): $(tr '\n' ';' <<<"$probe")"
if ! grep -q "^error Job.cs" <<<"$control"; then
  echo "inconclusive: the .editorconfig section did not even reach the user's file"
  exit 2
elif grep -q "^error Jobs.Sdk.Generators" <<<"$probe"; then
  echo "analyzer config reaches generated files: yes"
else
  echo "analyzer config reaches generated files: no"
fi
