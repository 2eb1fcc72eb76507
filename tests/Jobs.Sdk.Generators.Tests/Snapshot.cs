using System.Runtime.CompilerServices;
using System.Text;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// A small snapshot helper following Verify's conventions, so moving to Verify.SourceGenerators later is mechanical:
/// <c>Snapshots/{Class}.{Method}#{HintName without .cs}.verified.cs</c> beside the test; on mismatch (or when no verified
/// file exists) the actual text is written to the matching <c>.received.cs</c> and the test fails with a line diff.
/// Accept a change by renaming the received file to verified.
/// </summary>
internal static class Snapshot
{
    public static void Verify(string actual, string hintName, [CallerFilePath] string callerFile = "", [CallerMemberName] string method = "")
    {
        var testClass = Path.GetFileNameWithoutExtension(callerFile);
        var hint = hintName.EndsWith(".cs", StringComparison.Ordinal) ? hintName[..^3] : hintName;
        var directory = Path.Combine(Path.GetDirectoryName(callerFile)!, "Snapshots");
        var stem = Path.Combine(directory, $"{testClass}.{method}#{hint}");
        var verifiedPath = stem + ".verified.cs";
        var receivedPath = stem + ".received.cs";
        actual = Normalize(actual);

        if (!File.Exists(verifiedPath))
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(receivedPath, actual);
            Assert.Fail($"No verified snapshot yet. Review {receivedPath} and rename it to {Path.GetFileName(verifiedPath)} to accept it.");
        }

        var expected = Normalize(File.ReadAllText(verifiedPath));
        if (expected == actual)
        {
            if (File.Exists(receivedPath))
            {
                File.Delete(receivedPath);
            }

            return;
        }

        File.WriteAllText(receivedPath, actual);
        Assert.Fail($"Snapshot mismatch for {Path.GetFileName(verifiedPath)} (received written to {receivedPath}):\n{Diff(expected, actual)}");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>A unified-style line diff (LCS), limited to the changed regions with two lines of context.</summary>
    internal static string Diff(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var lines = new List<(char Op, string Text, int Line)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                lines.Add((' ', a[x], x + 1));
                x++;
                y++;
            }
            else if (y < b.Length && (x == a.Length || lcs[x, y + 1] >= lcs[x + 1, y]))
            {
                lines.Add(('+', b[y], y + 1));
                y++;
            }
            else
            {
                lines.Add(('-', a[x], x + 1));
                x++;
            }
        }

        var builder = new StringBuilder();
        var lastPrinted = -1;
        for (var k = 0; k < lines.Count; k++)
        {
            if (lines[k].Op == ' ')
            {
                continue;
            }

            for (var c = Math.Max(lastPrinted + 1, k - 2); c <= Math.Min(lines.Count - 1, k + 2); c++)
            {
                if (c > lastPrinted + 1 && lastPrinted >= 0 && c == Math.Max(lastPrinted + 1, k - 2))
                {
                    builder.AppendLine("...");
                }

                builder.AppendLine($"{lines[c].Op} {lines[c].Line,4}: {lines[c].Text}");
                lastPrinted = c;
            }
        }

        return builder.ToString();
    }
}
