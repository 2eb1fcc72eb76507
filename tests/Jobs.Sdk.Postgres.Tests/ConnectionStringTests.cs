using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A malformed connection string given to <c>UsePostgres</c> fails where it is given (<c>AddJobs</c>), naming the parameter
/// and Npgsql's reason and never echoing the string (it may hold a password). Before, <c>AddJobs</c> took it and the host's
/// start failed with Npgsql's bare message (<c>Format of the initialization string does not conform to specification
/// starting at index 0.</c>, <c>Couldn't set port</c>) from inside the container.
/// </summary>
public sealed class ConnectionStringTests
{
    [Theory]
    [InlineData("this is not a connection string", "Format of the initialization string")]
    [InlineData("Host=127.0.0.1;Password=s3cret;Port=abc", "port")]
    [InlineData("Host=127.0.0.1;Password=s3cret;Hots=db", "hots")]
    public void A_malformed_connection_string_fails_AddJobs_naming_UsePostgres_and_the_reason(string connectionString, string reason)
    {
        var builder = Host.CreateApplicationBuilder();

        var failure = Record.Exception(() => builder.Services.AddJobs(jobs => jobs.UsePostgres(connectionString).AddWorkers()));

        var invalid = Assert.IsType<ArgumentException>(failure);
        Assert.True(invalid.ParamName == "connectionString" && invalid.Message.Contains("UsePostgres", StringComparison.Ordinal)
            && invalid.Message.Contains(reason, StringComparison.OrdinalIgnoreCase) && !invalid.Message.Contains("s3cret", StringComparison.Ordinal),
            $"Expected an ArgumentException for 'connectionString' naming UsePostgres and '{reason}', without the password; got: {failure}");
    }
}
