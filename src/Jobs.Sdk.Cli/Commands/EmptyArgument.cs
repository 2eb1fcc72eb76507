namespace Jobs.Sdk.Cli;

/// <summary>
/// Refuses a queue name or schedule entry key given as an empty or blank argument, before anything runs: a script's
/// quoted variable that expanded to nothing (<c>jobs queue pause "$QUEUE"</c>). <see cref="JobAdmin"/>'s own check said
/// only "The value cannot be an empty string. (Parameter 'queue')", naming a parameter of the tool's code.
/// </summary>
internal static class EmptyArgument
{
    /// <summary><c>jobs queue pause</c>, <c>jobs queue resume</c>: null when <paramref name="name"/> can name a queue, else the usage error.</summary>
    public static Task<int>? RefuseQueue(string command, string name)
        => Refuse(command, name, "queue name", $"give the queue's name, e.g. jobs {command} emails (jobs status lists the queues)");

    /// <summary><c>jobs schedules pause</c>, <c>resume</c>, <c>jobs trigger</c>: null when <paramref name="entry"/> can be a key, else the usage error.</summary>
    public static Task<int>? RefuseEntry(string command, string entry)
        => Refuse(command, entry, "entry key", "give the entry's key as jobs schedules lists it");

    private static Task<int>? Refuse(string command, string value, string what, string give)
        => string.IsNullOrWhiteSpace(value)
            ? CliRunner.UsageErrorAsync($"jobs {command}: '{value}' is {(value.Length == 0 ? "empty" : "only whitespace")}, no {what} (an empty variable?); " +
                $"{give}. Nothing was changed.")
            : null;
}
