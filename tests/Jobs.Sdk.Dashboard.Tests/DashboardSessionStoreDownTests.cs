using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// <c>api/session</c> asks the store whether its server is read-only (so a page says so when it loads); a store that cannot
/// answer (down, restarting) must not keep the page from loading: the live stream says "Store unreachable" meanwhile.
/// </summary>
public sealed class DashboardSessionStoreDownTests
{
    [Fact]
    public async Task The_session_answers_without_a_read_only_flag_when_the_store_cannot_say()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false, services: s => s.AddSingleton<IJobAdminStore>(
            sp => new UnreachableReadOnlyCheck((IJobAdminStore)sp.GetRequiredService<IJobDriver>())));

        using var response = await app.GetAsync("api/session", Caller.LocalAnonymous);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var session = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, session.GetProperty("serverReadOnly").ValueKind);
        Assert.True(session.GetProperty("localOnly").GetBoolean());
    }

    private sealed class UnreachableReadOnlyCheck(IJobAdminStore inner) : DelegatingAdminStore(inner)
    {
        public override Task<string?> GetReadOnlyReasonAsync(CancellationToken cancellationToken)
            => throw new InvalidOperationException("The store is unreachable (test).");
    }
}
