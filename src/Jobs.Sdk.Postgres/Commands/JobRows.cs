using System.Globalization;
using System.Text;
using System.Text.Json;
using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>How jobs map to statement parameters and result rows: payloads, headers, pushed records, claimed rows, job info.</summary>
internal static class JobRows
{
    /// <summary>
    /// The job's priority as stored. Only the values <see cref="JobPriority"/> defines are claimed (the claim reads each
    /// priority in turn, see <see cref="JobSql.Claim"/>), so others are refused here rather than stored and never run.
    /// </summary>
    public static short Priority(JobPushRecord job) => Enum.IsDefined(job.Priority)
        ? (short)job.Priority
        : throw new ArgumentOutOfRangeException(nameof(job), job.Priority,
            $"Job {job.Id} ('{job.Name}') has priority {(int)job.Priority}, which is not a JobPriority value; use JobPriority.Lowest … JobPriority.Highest.");

    /// <summary>
    /// The parameters of a statement that pushes one job: <paramref name="before"/>, then the job's id, name, payload,
    /// headers, priority, run_at and max_attempts (as <see cref="JobSql.Push"/> and <see cref="ScheduleSql.TryPushScheduled"/>
    /// take them), then <paramref name="after"/> when given (<see cref="JobSql.PushPlain"/> ends with the job's).
    /// </summary>
    public static NpgsqlParameter[] Push(JobPushRecord job, ReadOnlySpan<NpgsqlParameter> before, NpgsqlParameter? after = null)
    {
        var parameters = new NpgsqlParameter[before.Length + (after is null ? 7 : 8)];
        before.CopyTo(parameters);
        var i = before.Length;
        parameters[i++] = Uuid(job.Id.Value);
        parameters[i++] = Text(job.Name);
        parameters[i++] = Text(PayloadText(job));
        parameters[i++] = Text(HeadersText(job.Headers));
        parameters[i++] = Smallint(Priority(job));
        parameters[i++] = Timestamp(job.RunAt);
        parameters[i++] = Integer(job.MaxAttempts);
        if (after is not null)
        {
            parameters[i] = after;
        }

        return parameters;
    }

    /// <summary>The concurrency key and limit of <paramref name="job"/> (the last two parameters of the statements that push one job).</summary>
    public static NpgsqlParameter[] Keys(JobPushRecord job) =>
        [Text(job.ConcurrencyKey), Integer(job.ConcurrencyKey is null ? null : Math.Max(job.ConcurrencyLimit ?? 1, 1))];

    /// <summary>The concurrency key and limit arrays of jobs <c>[start, start + count)</c> (<see cref="JobSql.PushMany"/>'s $10 and $11).</summary>
    public static NpgsqlParameter[] KeysMany(IReadOnlyList<JobPushRecord> jobs, int start, int count)
    {
        var keys = new string?[count];
        var limits = new int?[count];
        for (var i = 0; i < count; i++)
        {
            var job = jobs[start + i];
            keys[i] = job.ConcurrencyKey;
            limits[i] = job.ConcurrencyKey is null ? null : Math.Max(job.ConcurrencyLimit ?? 1, 1);
        }

        return [Array(keys, NpgsqlDbType.Text), Array(limits, NpgsqlDbType.Integer)];
    }

    /// <summary>The array parameters of jobs <c>[start, start + count)</c>, in the order of <see cref="JobSql.PushMany"/>.</summary>
    public static NpgsqlParameter[] PushMany(IReadOnlyList<JobPushRecord> jobs, int start, int count)
    {
        var ids = new Guid[count];
        var names = new string[count];
        var payloads = new string[count];
        var headers = new string?[count];
        var priorities = new short[count];
        var runAts = new DateTime?[count];
        var maxAttempts = new int[count];
        for (var i = 0; i < count; i++)
        {
            var job = jobs[start + i];
            ArgumentNullException.ThrowIfNull(job, nameof(jobs));
            ids[i] = job.Id.Value;
            names[i] = job.Name;
            payloads[i] = PayloadText(job);
            headers[i] = HeadersText(job.Headers);
            priorities[i] = Priority(job);
            runAts[i] = job.RunAt?.UtcDateTime;
            maxAttempts[i] = job.MaxAttempts;
        }

        return
        [
            Array(ids, NpgsqlDbType.Uuid), Array(names, NpgsqlDbType.Text), Array(payloads, NpgsqlDbType.Text), Array(headers, NpgsqlDbType.Text),
            Array(priorities, NpgsqlDbType.Smallint), Array(runAts, NpgsqlDbType.TimestampTz), Array(maxAttempts, NpgsqlDbType.Integer),
        ];
    }

    /// <summary>A row of <see cref="JobSql.Claim"/>.</summary>
    public static ClaimedJob ReadClaimed(NpgsqlDataReader reader) => new()
    {
        Id = new JobId(reader.GetGuid(0)),
        Name = reader.GetString(1),
        Payload = Encoding.UTF8.GetBytes(reader.GetString(2)),
        Attempt = reader.GetInt32(3),
        MaxAttempts = reader.GetInt32(4),
        Priority = (JobPriority)reader.GetInt16(5),
        QueuedAt = reader.GetFieldValue<DateTimeOffset>(6),
        RunAt = reader.GetFieldValue<DateTimeOffset>(7),
        Headers = reader.IsDBNull(8) ? null : ParseHeaders(reader.GetString(8)),
        LeaseToken = reader.GetGuid(9),
        DueFor = reader.GetFieldValue<TimeSpan>(11),
    };

    /// <summary>A row of <see cref="JobSql.GetJob"/>.</summary>
    public static JobInfo ReadInfo(NpgsqlDataReader reader) => new()
    {
        Id = new JobId(reader.GetGuid(0)),
        Name = reader.GetString(1),
        QueueName = reader.GetString(2),
        State = (JobState)reader.GetInt16(3),
        Priority = (JobPriority)reader.GetInt16(4),
        Attempts = reader.GetInt32(5),
        MaxAttempts = reader.GetInt32(6),
        Payload = reader.GetString(7),
        QueuedAt = reader.GetFieldValue<DateTimeOffset>(8),
        RunAt = reader.GetFieldValue<DateTimeOffset>(9),
        StartedAt = reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
        FinishedAt = reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11),
        LastError = reader.IsDBNull(12) ? null : reader.GetString(12),
        WorkerId = reader.IsDBNull(13) ? null : reader.GetString(13),
        Errors = reader.IsDBNull(14) ? [] : ReadErrors(reader.GetString(14)),
    };

    /// <summary>Reads the <c>errors</c> history: a JSON array of {attempt, at, error, stack?}.</summary>
    internal static JobAttemptError[] ReadErrors(string json)
    {
        var list = new List<JobAttemptError>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        int attempt = 0;
        DateTimeOffset at = default;
        string error = "";
        string? stack = null;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    (attempt, at, error, stack) = (0, default, "", null);
                    break;
                case JsonTokenType.EndObject:
                    list.Add(new JobAttemptError(attempt, at, error) { StackTrace = stack });
                    break;
                case JsonTokenType.PropertyName when reader.ValueTextEquals("attempt"):
                    reader.Read();
                    attempt = reader.GetInt32();
                    break;
                case JsonTokenType.PropertyName when reader.ValueTextEquals("at"):
                    reader.Read();
                    at = DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
                    break;
                case JsonTokenType.PropertyName when reader.ValueTextEquals("error"):
                    reader.Read();
                    error = reader.GetString() ?? "";
                    break;
                case JsonTokenType.PropertyName when reader.ValueTextEquals("stack"):
                    reader.Read();
                    stack = reader.GetString();
                    break;
            }
        }

        return [.. list];
    }

    private static string PayloadText(JobPushRecord job)
    {
        if (job.Payload.IsEmpty)
        {
            throw new ArgumentException($"Job {job.Id} ('{job.Name}') has an empty payload; payloads are JSON values.", nameof(job));
        }

        return Encoding.UTF8.GetString(job.Payload.Span);
    }

    internal static string? HeadersText(IReadOnlyDictionary<string, string>? headers)
    {
        if (headers is null || headers.Count == 0)
        {
            return null;
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in headers)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer().AsSpan(0, (int)stream.Length));
    }

    internal static Dictionary<string, string> ParseHeaders(string json)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return headers;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.String)
            {
                headers[key] = reader.GetString()!;
            }
            else
            {
                reader.Skip();
            }
        }

        return headers;
    }
}
