namespace Jobs.Sdk.Postgres;

/// <summary>
/// The dry runs of the bulk statements of <see cref="AdminSql"/> (<see cref="PostgresJobAdminStore.PreviewAsync"/>): each
/// selects, id ascending, the ids of $1 its statement would change, by that statement's own conditions (the same texts:
/// <see cref="AdminSql.RetryTargets"/> and <see cref="UniqueRetrySql.Choose"/>, <see cref="AdminSql.CancelApplies"/>, ...),
/// with the same parameters, and changes nothing: no row lock, no write, no notification.
/// </summary>
internal static class AdminPreviewSql
{
    /// <summary>
    /// <see cref="AdminSql.Retry"/>'s rows ($2, from attempt 1, changes which rows go back in no way): those that go back,
    /// a unique job whose key another job holds now left out, as the retry leaves it.
    /// </summary>
    public static readonly string Retry = $$"""
        WITH targets AS MATERIALIZED (
            {{AdminSql.RetryTargets}}
        ),
        {{UniqueRetrySql.Choose("targets")}}
        SELECT put_id FROM put_back ORDER BY put_id
        """;

    /// <summary><see cref="AdminSql.Cancel"/>'s rows (states $2).</summary>
    public static readonly string Cancel = Rows(AdminSql.CancelApplies, "$2");

    /// <summary><see cref="AdminSql.Delete"/>'s rows (states $2).</summary>
    public static readonly string Delete = Rows(AdminSql.DeleteApplies, "$2");

    /// <summary><see cref="AdminSql.SetPriority"/>'s rows (priority $2, states $3).</summary>
    public static readonly string SetPriority = Rows(AdminSql.SetPriorityApplies, "$3");

    /// <summary><see cref="AdminSql.RunNow"/>'s rows (states $2).</summary>
    public static readonly string RunNow = Rows(AdminSql.RunNowApplies, "$2");

    private static string Rows(string applies, string states)
        => $"SELECT id FROM {{s}}.jobs WHERE id = ANY($1) AND {applies} AND {AdminSql.InStates(states)} ORDER BY id";
}
