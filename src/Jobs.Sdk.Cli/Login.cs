using Npgsql;

namespace Jobs.Sdk.Cli;

/// <summary>
/// Whether a connection of this run completed PostgreSQL's login (its data source's physical connection initializer ran):
/// until one has, a connection that timed out or broke never reached a session, so <see cref="DatabaseError"/> says the
/// server cannot be reached instead of naming the command timeout or a statement that may have run.
/// </summary>
internal static class Login
{
    // Set by the data source's initializer (any thread); one command per process run.
    private static int s_completed;

    public static bool Completed => Volatile.Read(ref s_completed) == 1;

    public static void Reset() => Volatile.Write(ref s_completed, 0);

    /// <summary>Makes <paramref name="builder"/>'s connections mark <see cref="Completed"/> once their login is done.</summary>
    public static void Watch(NpgsqlSlimDataSourceBuilder builder)
        => builder.UsePhysicalConnectionInitializer(static _ => Mark(), static _ =>
        {
            Mark();
            return Task.CompletedTask;
        });

    private static void Mark() => Volatile.Write(ref s_completed, 1);
}
