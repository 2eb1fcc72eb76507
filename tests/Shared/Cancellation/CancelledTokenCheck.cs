namespace Jobs.Sdk.Testing;

/// <summary>Runs operations given an already cancelled token and names those that ran instead of throwing.</summary>
public static class CancelledTokenCheck
{
    /// <summary>
    /// Runs each operation in turn; one that completes (rather than throwing <see cref="OperationCanceledException"/>)
    /// is listed. Any other exception fails the caller's test as it is.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RanAnywayAsync(IEnumerable<(string Name, Func<Task> Run)> operations)
    {
        var ran = new List<string>();
        foreach (var (name, run) in operations)
        {
            try
            {
                await run();
                ran.Add(name);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return ran;
    }
}
