using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// Issue 16's compile-time checks: JOBS020 (queue and unique settings), JOBS021 (key members of unsupported types),
/// JOBS022 (ConcurrencyLimit below 1) and JOBS023 ([ConcurrencyKey] without ConcurrencyLimit).
/// </summary>
public class FlowSettingAnalyzerTests
{
    [Fact]
    public Task Valid_queue_and_unique_settings_report_nothing()
        => V.AnalyzerAsync("""
            using System;
            using Jobs.Sdk;
            public enum Kind { A, B }
            [Job("send-email", Queue = "emails")]
            public partial record SendEmail(string To);
            [Job("sync-account", Unique = true, UniqueFor = 3600)]
            public partial record SyncAccount([property: UniqueKey] Guid AccountId, [property: UniqueKey] Kind Kind, [property: UniqueKey] long? Shard, DateTimeOffset RequestedAt);
            [Job("whole-payload", Unique = true)]
            public partial record WholePayload(string A, double B);
            """);

    [Fact]
    public Task JOBS020_UniqueFor_without_Unique_or_negative_and_empty_queue()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("a", {|#0:UniqueFor = 60|})]
            public partial record A(int X);
            [Job("b", Unique = true, {|#1:UniqueFor = -1|})]
            public partial record B(int X);
            [Job("c", {|#2:Queue = ""|})]
            public partial record C(int X);
            """,
            V.Diagnostic("JOBS020").WithLocation(0)
                .WithMessage("UniqueFor = 60 is invalid: it needs Unique = true (UniqueFor is how long a unique key holds after the job finished)"),
            V.Diagnostic("JOBS020").WithLocation(1)
                .WithMessage("UniqueFor = -1 is invalid: it must not be negative (0 holds the key only while the job is unfinished)"),
            V.Diagnostic("JOBS020").WithLocation(2)
                .WithMessage("Queue is invalid: a queue name must be non-empty and contain no NUL characters (leave Queue unset for the default queue)"));

    [Fact]
    public Task JOBS020_UniqueKey_member_without_Unique()
        => V.AnalyzerAsync("""
            using System;
            using Jobs.Sdk;
            [Job("a")]
            public partial record A([property: UniqueKey] Guid {|#0:Id|}, int X);
            [Job("b", Unique = false)]
            public partial class B
            {
                [UniqueKey] public string {|#1:Tenant|} { get; set; } = "";
            }
            [Job("c", Unique = true)]
            public partial record C([property: UniqueKey] Guid Id);
            """,
            V.Diagnostic("JOBS020").WithLocation(0)
                .WithMessage("[UniqueKey] member 'Id' is invalid: 'A' does not set Unique = true on [Job], so its pushes are not unique and the key is never used; set Unique = true, or remove the attribute"),
            V.Diagnostic("JOBS020").WithLocation(1)
                .WithMessage("[UniqueKey] member 'Tenant' is invalid: 'B' does not set Unique = true on [Job], so its pushes are not unique and the key is never used; set Unique = true, or remove the attribute"));

    [Fact]
    public Task JOBS020_queue_name_longer_than_1000_UTF8_bytes()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            public static class Queues
            {
                public const string Long = "\u00e9\u00e9\u00e9" + Five + Five;           // 3 x 2 bytes + 2 x 499 bytes = 1004 bytes, 1001 characters
                public const string Five = "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" +
                    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" +
                    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" +
                    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" +
                    "012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678";
                public const string AtLimit = "\u00e9" + Five + Five;                       // 2 + 998 = 1000 bytes: fine
                public const string Wide = "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9" + Five; // 20 + 499 = 519 bytes: fine
            }
            [Job("a", {|#0:Queue = Queues.Long|})]
            public partial record A(int X);
            [Job("b", Queue = Queues.AtLimit)]
            public partial record B(int X);
            [Job("c", Queue = Queues.Wide)]
            public partial record C(int X);
            [Job("d", {|#1:Queue = "a\0b"|})]
            public partial record D(int X);
            """,
            V.Diagnostic("JOBS020").WithLocation(0)
                .WithMessage("Queue is invalid: the queue name is 1004 bytes of UTF-8 (1001 characters); at most 1000 bytes are allowed (PostgreSQL indexes it)"),
            V.Diagnostic("JOBS020").WithLocation(1)
                .WithMessage("Queue is invalid: a queue name must be non-empty and contain no NUL characters (leave Queue unset for the default queue)"));

    [Fact]
    public Task JOBS020_queue_name_with_whitespace_at_either_end_or_only_whitespace()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("a", {|#0:Queue = "emails "|})]
            public partial record A(int X);
            [Job("b", {|#1:Queue = " "|})]
            public partial record B(int X);
            [Job("c", {|#2:Queue = "\temails"|})]
            public partial record C(int X);
            [Job("d", Queue = "bulk emails")]
            public partial record D(int X);
            """,
            V.Diagnostic("JOBS020").WithLocation(0)
                .WithMessage("Queue is invalid: a queue name must not start or end with whitespace: 'emails ' would be another queue than 'emails'"),
            V.Diagnostic("JOBS020").WithLocation(1)
                .WithMessage("Queue is invalid: a queue name must not start or end with whitespace: ' ' is only whitespace"),
            V.Diagnostic("JOBS020").WithLocation(2)
                .WithMessage("Queue is invalid: a queue name must not start or end with whitespace: '\\u0009emails' would be another queue than 'emails'"));

    [Fact]
    public Task JOBS020_queue_name_with_an_unpaired_surrogate_but_not_a_pair()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("a", {|#0:Queue = "emails-\uD83D"|})]
            public partial record A(int X);
            [Job("b", Queue = "rockets-\uD83D\uDE80")]
            public partial record B(int X);
            """,
            V.Diagnostic("JOBS020").WithLocation(0)
                .WithMessage("Queue is invalid: the queue name contains an unpaired surrogate (U+D83D) at index 7, which no store can hold (it has no UTF-8 form)"));

    [Fact]
    public Task JOBS021_key_member_of_an_unsupported_type()
        => V.AnalyzerAsync("""
            using System.Collections.Generic;
            using Jobs.Sdk;
            [Job("k", Unique = true)]
            public partial class K
            {
                [UniqueKey] public double {|#0:Ratio|} { get; set; }
                [UniqueKey] public List<string> {|#1:Tags|} { get; set; } = new();
                [UniqueKey] public string Tenant { get; set; } = "";
            }
            """,
            V.Diagnostic("JOBS021").WithLocation(0)
                .WithMessage("[UniqueKey] member 'Ratio' has type 'double', which cannot be a key: use string, Guid, bool, char, an integer type, an enum, DateTime, DateTimeOffset, DateOnly or TimeOnly (or a nullable of those)"),
            V.Diagnostic("JOBS021").WithLocation(1)
                .WithMessage("[UniqueKey] member 'Tags' has type 'List<string>', which cannot be a key: use string, Guid, bool, char, an integer type, an enum, DateTime, DateTimeOffset, DateOnly or TimeOnly (or a nullable of those)"));

    [Fact]
    public Task Valid_concurrency_settings_report_nothing()
        => V.AnalyzerAsync("""
            using System;
            using Jobs.Sdk;
            [Job("import-file", ConcurrencyLimit = 1)]
            public partial record ImportFile([property: ConcurrencyKey] string TenantId, [property: ConcurrencyKey] Guid? Region, string Path);
            [Job("render", ConcurrencyLimit = 4)]
            public partial record Render(double Scale);
            """);

    [Fact]
    public Task JOBS022_ConcurrencyLimit_below_1()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("a", {|#0:ConcurrencyLimit = 0|})]
            public partial record A(int X);
            [Job("b", {|#1:ConcurrencyLimit = -2|})]
            public partial record B(int X);
            """,
            V.Diagnostic("JOBS022").WithLocation(0).WithMessage("ConcurrencyLimit = 0 is invalid: it must be at least 1 (leave it unset for no limit)"),
            V.Diagnostic("JOBS022").WithLocation(1).WithMessage("ConcurrencyLimit = -2 is invalid: it must be at least 1 (leave it unset for no limit)"));

    [Fact]
    public Task JOBS021_and_JOBS023_concurrency_key_of_an_unsupported_type_or_without_a_limit()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("k", ConcurrencyLimit = 2)]
            public partial class K
            {
                [ConcurrencyKey] public double {|#0:Ratio|} { get; set; }
                [ConcurrencyKey] public string Tenant { get; set; } = "";
            }
            [Job("n")]
            public partial class N
            {
                [ConcurrencyKey] public string {|#1:Tenant|} { get; set; } = "";
            }
            """,
            V.Diagnostic("JOBS021").WithLocation(0)
                .WithMessage("[ConcurrencyKey] member 'Ratio' has type 'double', which cannot be a key: use string, Guid, bool, char, an integer type, an enum, DateTime, DateTimeOffset, DateOnly or TimeOnly (or a nullable of those)"),
            V.Diagnostic("JOBS023").WithLocation(1).WithMessage("[ConcurrencyKey] member 'Tenant' has no effect: 'N' sets no ConcurrencyLimit on [Job]"));
}
