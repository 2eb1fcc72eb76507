using Jobs.Sdk.Testing;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>The dashboard README's options table against <see cref="JobsDashboardOptions"/>: every setting, with the code's default.</summary>
public sealed class ReadmeDashboardOptionsTests
{
    [Fact]
    public void The_options_table_lists_each_setting_with_the_code_default()
    {
        var readme = ReadmeTables.Read(Path.Combine("src", "Jobs.Sdk.Dashboard", "README.md"));
        // The table's header cell is "option"; CompareOptions finds a table by the type's name, so name it here.
        var problems = ReadmeTables.CompareOptions(readme.Replace("| option | default |", "| JobsDashboardOptions | default |", StringComparison.Ordinal),
            new JobsDashboardOptions());

        Assert.True(problems.Count == 0, "src/Jobs.Sdk.Dashboard/README.md's options table disagrees with the code:\n" + string.Join('\n', problems));
    }
}
