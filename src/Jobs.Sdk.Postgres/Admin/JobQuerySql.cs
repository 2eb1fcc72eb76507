using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Builds the statements of <see cref="JobQuery"/>: only the filters in use become clauses (so the planner sees plain
/// conditions and picks <c>jobs_admin_list_idx</c>, the primary key or the partial indexes), and every value is a parameter.
/// Text filters (payload containment, payload text, error text) are evaluated over bounded windows of at most
/// <see cref="ScanLimit"/> rows, taken in page order by the indexed filters; each statement's cursor continues after its
/// window, so no statement scans the whole table (the store reads windows until the page is full or its time is up:
/// <see cref="PostgresJobAdminStore.TextSearchBudget"/>; a bulk action's walk, until it found its batch: <see cref="Ids"/>).
/// </summary>
internal sealed class JobQuerySql
{
    /// <summary>Rows one statement of a page with text filters examines at most.</summary>
    public const int ScanLimit = 10_000;

    private readonly StringBuilder _where = new();
    private readonly StringBuilder _text = new();

    private JobQuerySql(string schema) => Schema = schema;

    public string Schema { get; }
    public List<NpgsqlParameter> Parameters { get; } = [];
    public bool HasTextFilters => _text.Length > 0;

    /// <summary>The filters of <paramref name="query"/> (not its cursor).</summary>
    public static JobQuerySql For(string schema, JobQuery query)
    {
        var sql = new JobQuerySql(schema);
        if (query.Queue is not null)
        {
            sql.Where("queue_name = " + sql.Add(Text(query.Queue)));
        }

        if (query.States is { Count: > 0 } states)
        {
            var codes = states.Select(s => (short)s).Distinct().ToArray();
            sql.Where(codes.Length == 1
                ? "state = " + sql.Add(new NpgsqlParameter<short> { TypedValue = codes[0], NpgsqlDbType = NpgsqlDbType.Smallint })
                : "state = ANY(" + sql.Add(new NpgsqlParameter<short[]> { TypedValue = codes, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint }) + ")");
        }

        if (query.Names is { Count: > 0 } names)
        {
            sql.Where("name = ANY(" + sql.Add(new NpgsqlParameter<string[]> { TypedValue = names.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text }) + ")");
        }

        sql.Time("created_at >= ", query.QueuedAfter);
        sql.Time("created_at < ", query.QueuedBefore);
        sql.Time("run_at >= ", query.RunAfter);
        sql.Time("run_at < ", query.RunBefore);
        if (query.PayloadContains is not null)
        {
            sql.TextFilter("payload @> " + sql.Add(Text(query.PayloadContains)) + "::jsonb");
        }

        if (query.PayloadText is not null)
        {
            // The text as typed, or as it reads inside a JSON string (jsonb prints a"b as a\"b): see JobPayloadText.
            var typed = "strpos(lower(payload::text), lower(" + sql.Add(Text(query.PayloadText)) + ")) > 0";
            var escaped = JobPayloadText.Escape(query.PayloadText);
            sql.TextFilter(escaped == query.PayloadText
                ? typed
                : "(" + typed + " OR strpos(lower(payload::text), lower(" + sql.Add(Text(escaped)) + ")) > 0)");
        }

        if (query.ErrorText is not null)
        {
            sql.TextFilter("strpos(lower(coalesce(last_error, '')), lower(" + sql.Add(Text(query.ErrorText)) + ")) > 0");
        }

        return sql;
    }

    /// <summary>
    /// The page statement. Without text filters: up to limit + 1 rows in order. With them: a window of <see cref="ScanLimit"/>
    /// rows in order, the matching rows (up to limit + 1, column <c>marker</c> false) and, when the window was full, its last
    /// row (<c>marker</c> true) so the next page starts after it.
    /// </summary>
    public string Page(JobQuery query)
    {
        if (query.Cursor is { } text)
        {
            var cursor = JobCursor.Parse(text, query.Order);
            if (query.Order == JobOrder.RunAt)
            {
                Where("(run_at, id) > (" + Add(Time(cursor.RunAt)) + ", " + Add(Uuid(cursor.Id)) + ")");
            }
            else
            {
                Where("id < " + Add(Uuid(cursor.Id)));
            }
        }

        var order = query.Order == JobOrder.RunAt ? "run_at, id" : "id DESC";
        var limit = Add(new NpgsqlParameter<int> { TypedValue = query.Limit + 1, NpgsqlDbType = NpgsqlDbType.Integer });
        if (!HasTextFilters)
        {
            return $"SELECT {AdminSql.JobColumns}, false AS marker FROM {Schema}.jobs{WhereClause()} ORDER BY {order} LIMIT {limit}";
        }

        var scan = Add(new NpgsqlParameter<int> { TypedValue = ScanLimit, NpgsqlDbType = NpgsqlDbType.Integer });
        var reverse = query.Order == JobOrder.RunAt ? "run_at DESC, id DESC" : "id";
        return $"""
            WITH w AS MATERIALIZED (
                SELECT {AdminSql.JobColumns}, payload FROM {Schema}.jobs{WhereClause()} ORDER BY {order} LIMIT {scan}
            )
            (SELECT {AdminSql.JobColumns}, false AS marker FROM w WHERE {_text} ORDER BY {order} LIMIT {limit})
            UNION ALL
            (SELECT {AdminSql.JobColumns}, true FROM w WHERE (SELECT count(*) FROM w) = {scan} ORDER BY {reverse} LIMIT 1)
            """;
    }

    /// <summary>
    /// Ids matching every filter, id ascending, after <paramref name="after"/> (bulk actions and their dry runs), column
    /// <c>marker</c> false. Without text filters: up to <paramref name="limit"/> rows. With them, as <see cref="Page"/>: a
    /// window of <see cref="ScanLimit"/> rows by the other filters, its matching rows (up to <paramref name="limit"/>) and,
    /// when the window was full, its last row (<c>marker</c> true) to search on after. Searched in one statement, a needle
    /// in a large history held one snapshot over every row (issue 15).
    /// </summary>
    public string Ids(JobId? after, int limit)
    {
        if (after is { } a)
        {
            Where("id > " + Add(Uuid(a)));
        }

        var l = Add(new NpgsqlParameter<int> { TypedValue = limit, NpgsqlDbType = NpgsqlDbType.Integer });
        if (!HasTextFilters)
        {
            return $"SELECT id, false AS marker FROM {Schema}.jobs{WhereClause()} ORDER BY id LIMIT {l}";
        }

        var scan = Add(new NpgsqlParameter<int> { TypedValue = ScanLimit, NpgsqlDbType = NpgsqlDbType.Integer });
        return $"""
            WITH w AS MATERIALIZED (
                SELECT id, ({_text}) AS hit FROM {Schema}.jobs{WhereClause()} ORDER BY id LIMIT {scan}
            )
            (SELECT id, false AS marker FROM w WHERE hit ORDER BY id LIMIT {l})
            UNION ALL
            (SELECT id, true FROM w WHERE (SELECT count(*) FROM w) = {scan} ORDER BY id DESC LIMIT 1)
            """;
    }

    private string WhereClause() => _where.Length == 0 ? "" : " WHERE " + _where;

    private void Where(string clause) => (_where.Length == 0 ? _where : _where.Append(" AND ")).Append(clause);

    private void TextFilter(string clause) => (_text.Length == 0 ? _text : _text.Append(" AND ")).Append(clause);

    private void Time(string prefix, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            Where(prefix + Add(Time(v)));
        }
    }

    private string Add(NpgsqlParameter parameter)
    {
        Parameters.Add(parameter);
        return "$" + Parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static NpgsqlParameter Text(string value) => new NpgsqlParameter<string> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Text };

    internal static NpgsqlParameter Uuid(JobId id) => new NpgsqlParameter<Guid> { TypedValue = id.Value, NpgsqlDbType = NpgsqlDbType.Uuid };

    internal static NpgsqlParameter Time(DateTimeOffset value) => new NpgsqlParameter<DateTime> { TypedValue = value.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
