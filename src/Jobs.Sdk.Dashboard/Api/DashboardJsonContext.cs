using System.Text.Json;
using System.Text.Json.Serialization;

namespace Jobs.Sdk.Dashboard;

/// <summary>Source-generated JSON for every type the dashboard reads or writes (no reflection, Native-AOT-safe).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(SessionResponse))]
[JsonSerializable(typeof(JobPageDto))]
[JsonSerializable(typeof(JobDetailsDto))]
[JsonSerializable(typeof(QueuePageDto))]
[JsonSerializable(typeof(SchedulePageDto))]
[JsonSerializable(typeof(IReadOnlyList<WorkerDto>))]
[JsonSerializable(typeof(IReadOnlyList<AuditDto>))]
[JsonSerializable(typeof(SnapshotDto))]
[JsonSerializable(typeof(StoreErrorDto))]
[JsonSerializable(typeof(JobActionRequest))]
[JsonSerializable(typeof(ReasonRequest))]
[JsonSerializable(typeof(ActionResponse))]
[JsonSerializable(typeof(ActionConflictResponse))]
[JsonSerializable(typeof(ActionPreviewResponse))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
