using System.Text.Json;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>A unique job keyed by account (UniqueFor 0: the key holds only while the job is unfinished).</summary>
public sealed record UniqueAccountJob(Guid Account, int N) : IJob<UniqueAccountJob>
{
    public static string JobName => "test.unique-account";
    public static bool Unique => true;
    public static string? GetUniqueKey(UniqueAccountJob job) => job.Account.ToString("N");
    public static void Serialize(Utf8JsonWriter writer, UniqueAccountJob job) => AccountJson.Write(writer, job.Account, job.N);
    public static UniqueAccountJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var (account, n) = AccountJson.Read(utf8Json);
        return new UniqueAccountJob(account, n);
    }
}

/// <summary>A unique job keyed by account whose key holds for an hour after it finished.</summary>
public sealed record HeldAccountJob(Guid Account, int N) : IJob<HeldAccountJob>
{
    public static string JobName => "test.held-account";
    public static bool Unique => true;
    public static int UniqueForSeconds => 3600;
    public static string? GetUniqueKey(HeldAccountJob job) => job.Account.ToString("N");
    public static void Serialize(Utf8JsonWriter writer, HeldAccountJob job) => AccountJson.Write(writer, job.Account, job.N);
    public static HeldAccountJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var (account, n) = AccountJson.Read(utf8Json);
        return new HeldAccountJob(account, n);
    }
}

/// <summary>
/// A unique job keyed by account that also has a concurrency key (limit 1): <c>N / 1000</c>, as
/// <see cref="Jobs.Sdk.Testing.KeyedRecordJob"/>.
/// </summary>
public sealed record UniqueKeyedAccountJob(Guid Account, int N) : IJob<UniqueKeyedAccountJob>
{
    public static string JobName => "test.unique-keyed-account";
    public static bool Unique => true;
    public static int? ConcurrencyLimit => 1;
    public static string? GetUniqueKey(UniqueKeyedAccountJob job) => job.Account.ToString("N");
    public static string GetConcurrencyKey(UniqueKeyedAccountJob job) => JobName + ":" + (job.N / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
    public static void Serialize(Utf8JsonWriter writer, UniqueKeyedAccountJob job) => AccountJson.Write(writer, job.Account, job.N);
    public static UniqueKeyedAccountJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var (account, n) = AccountJson.Read(utf8Json);
        return new UniqueKeyedAccountJob(account, n);
    }
}

/// <summary>A job whose type names its queue (<see cref="IJob{TSelf}.Queue"/>).</summary>
public sealed record TypedQueueJob(int Value) : IJob<TypedQueueJob>
{
    public const string QueueName = "issue16_typed_queue";
    public static string JobName => "test.typed-queue";
    public static string? Queue => QueueName;
    public static void Serialize(Utf8JsonWriter writer, TypedQueueJob job) => AccountJson.Write(writer, Guid.Empty, job.Value);
    public static TypedQueueJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(AccountJson.Read(utf8Json).N);
}

internal static class AccountJson
{
    public static void Write(Utf8JsonWriter writer, Guid account, int n)
    {
        writer.WriteStartObject();
        writer.WriteString("account", account);
        writer.WriteNumber("n", n);
        writer.WriteEndObject();
    }

    public static (Guid Account, int N) Read(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        var account = Guid.Empty;
        var n = 0;
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("account"))
            {
                reader.Read();
                account = reader.GetGuid();
            }
            else if (reader.ValueTextEquals("n"))
            {
                reader.Read();
                n = reader.GetInt32();
            }
        }

        return (account, n);
    }
}
