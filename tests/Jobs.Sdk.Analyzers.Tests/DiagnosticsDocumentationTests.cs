using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// Every diagnostic the analyzers can report is documented where users look: a row in the tables of DIAGNOSTICS.md (shipped
/// in the package) and of the top-level README, with its severity and title, and a section in DIAGNOSTICS.md; and the
/// prose that names the range of ids names all of them.
/// </summary>
public class DiagnosticsDocumentationTests
{
    private static readonly DiagnosticDescriptor[] Reported =
    [
        .. new DiagnosticAnalyzer[] { new JobDeclarationAnalyzer(), new JobHandlerAnalyzer(), new JobRegistrationAnalyzer() }
            .SelectMany(a => a.SupportedDiagnostics)
            .GroupBy(d => d.Id)
            .Select(g => g.First())
            .OrderBy(d => d.Id, StringComparer.Ordinal),
    ];

    [Fact]
    public void Every_reported_diagnostic_has_a_row_and_a_section_in_DIAGNOSTICS_md()
    {
        var text = File.ReadAllText(Path.Combine(RepoRoot(), "analyzers", "Jobs.Sdk.Analyzers", "DIAGNOSTICS.md"));
        var missing = Reported.Where(d => !HasRow(text, d, $"(#{d.Id.ToLowerInvariant()})")).Select(d => d.Id)
            .Concat(Reported.Where(d => !text.Contains($"\n## {d.Id}\n", StringComparison.Ordinal)).Select(d => d.Id + " (section)"));
        Assert.Empty(missing);
    }

    [Fact]
    public void Every_reported_diagnostic_has_a_row_in_the_README_and_its_id_ranges_name_them_all()
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        Assert.Empty(Reported.Where(d => !HasRow(readme, d, $"(analyzers/Jobs.Sdk.Analyzers/DIAGNOSTICS.md#{d.Id.ToLowerInvariant()})")).Select(d => d.Id));

        var last = Reported[^1].Id;
        var files = new[] { "README.md", Path.Combine("src", "Jobs.Sdk", "README.md"), Path.Combine("src", "Jobs.Sdk", "Jobs.Sdk.csproj") };
        var stale = files
            .SelectMany(f => Regex.Matches(File.ReadAllText(Path.Combine(RepoRoot(), f)), @"JOBS001\s*[-–]\s*(JOBS\d{3})").Select(m => (f, m.Groups[1].Value)))
            .Where(r => r.Value != last);
        Assert.Empty(stale);
    }

    private static bool HasRow(string text, DiagnosticDescriptor d, string link)
    {
        var severity = d.DefaultSeverity switch
        {
            DiagnosticSeverity.Error => "Error",
            DiagnosticSeverity.Warning => "Warning",
            DiagnosticSeverity.Info => "Info",
            _ => "Hidden",
        };
        var prefix = $"| [{d.Id}]{link} | {severity} | {d.Title} ";
        return text.Split('\n').Any(line => line.StartsWith(prefix, StringComparison.Ordinal));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Jobs.Sdk.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Jobs.Sdk.sln not found above {AppContext.BaseDirectory}.");
    }
}
