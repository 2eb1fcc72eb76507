using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Runs a SQL script as <c>psql -v ON_ERROR_STOP=1 -f</c> does: statement by statement on one session, each sent on its
/// own (so the script's own <c>BEGIN</c> and <c>COMMIT</c> decide what runs in a transaction, and a <c>CREATE INDEX
/// CONCURRENTLY</c> between them runs outside one), stopping at the first statement that fails (its exception is thrown).
/// Sent whole in one command, such a script runs in one implicit transaction, where a concurrent build is refused.
/// </summary>
internal static partial class PsqlScript
{
    public static async Task RunAsync(NpgsqlDataSource dataSource, string script)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        foreach (var statement in Statements(script))
        {
            await using var command = new NpgsqlCommand(statement, connection) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// The statements of <paramref name="script"/> as psql splits them: at each <c>;</c> outside quotes ('…', "…",
    /// dollar quotes) and comments; a part with nothing but comments and blanks is not sent.
    /// </summary>
    public static IEnumerable<string> Statements(string script)
    {
        var current = new StringBuilder();
        var content = false;
        var i = 0;
        while (i < script.Length)
        {
            var c = script[i];
            var rest = script.AsSpan(i);
            if (rest.StartsWith("--"))
            {
                var end = script.IndexOf('\n', i);
                i = end < 0 ? script.Length : end + 1;
                current.Append('\n');
                continue;
            }

            if (c is '\'' or '"')
            {
                var end = script.IndexOf(c, i + 1);
                end = end < 0 ? script.Length - 1 : end; // ('' and "" inside: two quoted parts back to back, the same text)
                current.Append(script, i, end - i + 1);
                content = true;
                i = end + 1;
                continue;
            }

            if (c == '$' && DollarTag().Match(script, i) is { Success: true, Index: var at } tag && at == i)
            {
                var close = script.IndexOf(tag.Value, i + tag.Length, StringComparison.Ordinal);
                var end = close < 0 ? script.Length : close + tag.Length;
                current.Append(script, i, end - i);
                content = true;
                i = end;
                continue;
            }

            current.Append(c);
            i++;
            if (c == ';')
            {
                if (content)
                {
                    yield return current.ToString().Trim();
                }

                current.Clear();
                content = false;
            }
            else if (!char.IsWhiteSpace(c))
            {
                content = true;
            }
        }

        if (content)
        {
            yield return current.ToString().Trim();
        }
    }

    [GeneratedRegex(@"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")]
    private static partial Regex DollarTag();
}
