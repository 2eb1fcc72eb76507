using Jobs.Sdk.Postgres;
using Npgsql;

namespace Jobs.Sdk.Cli;

/// <summary>Runs a command body with the shared error handling: user errors and database errors print one line and exit with their class's code (<see cref="ExitCodes"/>).</summary>
internal static class CliRunner
{
    public static async Task<int> RunAsync(string? connection, string schema, bool json, Func<CliContext, Task<int>> body)
    {
        try
        {
            await using var context = CliContext.Open(connection, schema, json);
            return await body(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Interruption.Token.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM: the statement running was cancelled on the server and its transaction rolled back; what
            // earlier transactions committed stays (a bulk action's earlier batches: JobAdmin audits them, its message counts them).
            await Console.Error.WriteLineAsync("error: interrupted: " + (ex switch
            {
                CliInterruptedException or JobsException => ex.Message,
                _ => "the statement running was cancelled and rolled back.",
            })).ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (PostgresSchemaIncompatibleException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message} This jobs tool changes nothing there, nothing was changed: use the jobs tool of the newer version.").ConfigureAwait(false);
            return ExitCodes.SchemaRefused;
        }
        catch (PostgresMigrationException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable })
        {
            // A migration gave up on a table lock another session holds: the message names the sessions; running again may pass.
            await Console.Error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.TryAgain;
        }
        catch (PostgresMigrationException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.InsufficientPrivilege })
        {
            // The role may not apply a migration: the message names the role that owns the tables.
            await Console.Error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.NoPermission;
        }
        catch (PostgresMigrationException ex)
        {
            // The schema's recorded migrations are not this version's (edited by hand, or another build's): refused as above.
            await Console.Error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.SchemaRefused;
        }
        catch (CliException ex)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ex.ExitCode;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            await Console.Error.WriteLineAsync($"error: the job tables are missing in schema '{schema}' ({ex.MessageText}). Run `jobs migrate` first, or pass the right --schema.").ConfigureAwait(false);
            return ExitCodes.SchemaRefused;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedColumn)
        {
            // A tool newer than the schema (a rolling deploy whose migrations have not run yet): its statements name columns
            // that a later migration adds. Nothing was changed.
            await Console.Error.WriteLineAsync($"error: schema '{schema}' is older than this jobs tool ({ex.MessageText}); nothing was changed. " +
                "Run `jobs migrate --dry-run` to see the pending migrations and `jobs migrate` to apply them, or use the jobs tool of the version that migrated it.").ConfigureAwait(false);
            return ExitCodes.SchemaRefused;
        }
        catch (NpgsqlException ex)
        {
            await Console.Error.WriteLineAsync("error: " + DatabaseError.Describe(ex, connection, schema)).ConfigureAwait(false);
            return DatabaseError.ExitCode(ex);
        }
        catch (JobsException ex) when (ex is JobBatchTimeoutException || ex.InnerException is JobBatchTimeoutException)
        {
            // A bulk action's single job ran past the session's statement_timeout (JobAdmin had tried smaller statements
            // down to one job): the message names the setting, the role and how to raise it. Run as is, it stops there again.
            await Console.Error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.TryAgain;
        }
        catch (JobsException ex) when (ex.InnerException is NpgsqlException db)
        {
            // A bulk action that failed part-way (JobAdmin: "... failed after changing N job(s): {the database's message}"):
            // its committed batches stay, audited. Say what ended it as for any database failure, with that failure's code.
            var done = ex.Message.EndsWith(db.Message, StringComparison.Ordinal) ? ex.Message[..^db.Message.Length] : ex.Message + " ";
            await Console.Error.WriteLineAsync($"error: {done}{DatabaseError.Describe(db, connection, schema)} The batch that was running was rolled back; " +
                "the jobs changed before it are in the audit log (jobs audit). Run the command again for the rest.").ConfigureAwait(false);
            return DatabaseError.ExitCode(db);
        }
        catch (Exception ex) when (PasswordFile.Describe(ex, connection) is { } passfile)
        {
            await Console.Error.WriteLineAsync("error: " + passfile).ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is InvalidOperationException or JobsException)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Failed;
        }
    }

    /// <summary>A command line the tool cannot use, found before anything ran: says so on stderr, <see cref="ExitCodes.Usage"/>.</summary>
    public static async Task<int> UsageErrorAsync(string message)
    {
        await Console.Error.WriteLineAsync("error: " + message).ConfigureAwait(false);
        return ExitCodes.Usage;
    }

    /// <summary>Parses <c>90s</c>, <c>15m</c>, <c>12h</c>, <c>7d</c> (or a TimeSpan like <c>1.00:00:00</c>).</summary>
    /// <summary>
    /// <paramref name="span"/> as an operator writes it and <see cref="ParseDuration"/> reads it back: in the largest unit
    /// that divides it (90d, 12h, 15m, 45s), else exactly (<c>00:01:30.5000000</c>).
    /// </summary>
    public static string FormatDuration(TimeSpan span)
    {
        var ticks = span.Ticks;
        return ticks switch
        {
            > 0 when ticks % TimeSpan.TicksPerDay == 0 => Whole(ticks / TimeSpan.TicksPerDay, 'd'),
            > 0 when ticks % TimeSpan.TicksPerHour == 0 => Whole(ticks / TimeSpan.TicksPerHour, 'h'),
            > 0 when ticks % TimeSpan.TicksPerMinute == 0 => Whole(ticks / TimeSpan.TicksPerMinute, 'm'),
            >= 0 when ticks % TimeSpan.TicksPerSecond == 0 => Whole(ticks / TimeSpan.TicksPerSecond, 's'),
            _ => span.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        };

        static string Whole(long n, char unit) => n.ToString(System.Globalization.CultureInfo.InvariantCulture) + unit;
    }

    public static TimeSpan ParseDuration(string text, string option)
    {
        if (text.Length >= 2 && double.TryParse(text.AsSpan(0, text.Length - 1), System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            var seconds = char.ToLowerInvariant(text[^1]) switch
            {
                's' => n,
                'm' => n * 60,
                'h' => n * 3600,
                'd' => n * 86400,
                _ => double.NaN,
            };
            if (!double.IsNaN(seconds))
            {
                return seconds < TimeSpan.MaxValue.TotalSeconds
                    ? TimeSpan.FromSeconds(seconds)
                    : throw new CliException($"{option}: '{text}' is too long a duration.");
            }
        }

        if (TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero)
        {
            return span;
        }

        throw new CliException($"{option}: '{text}' is not a duration; use e.g. 90s, 15m, 12h or 7d.");
    }
}
