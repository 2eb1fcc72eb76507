using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The AotWorker sample stopped (SIGTERM: <c>docker stop</c>, a pod's end; Ctrl+C) while its <c>--push N</c> still pushes,
/// as README shows it run: it stops as it promises, within its shutdown timeout (45 s), exit 0, nothing left processing,
/// instead of pushing on until all N are in (minutes for a large N, ended by the orchestrator's SIGKILL).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AotWorkerSamplePushStopTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Sigterm_while_push_is_pushing_stops_the_sample_with_exit_0()
    {
        var schema = "aot_push_" + Guid.NewGuid().ToString("N")[..8];
        await using var dataSource = NpgsqlDataSource.Create(fixture.ConnectionString);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(AotWorkerSampleTests.SampleDll());
        info.ArgumentList.Add("--push");
        info.ArgumentList.Add("1000000");
        info.Environment["ConnectionStrings__Jobs"] = fixture.ConnectionString;
        info.Environment["Jobs__Schema"] = schema;
        using var process = Process.Start(info)!;
        var output = new System.Text.StringBuilder();
        var working = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Collect(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is not { } line)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }

            if (line.Contains("first job completed", StringComparison.Ordinal))
            {
                working.TrySetResult();
            }
        }

        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Pushing (a million of each kind takes minutes) and working: its first job completed.
            await working.Task.WaitAsync(TimeSpan.FromSeconds(90));
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            var exited = await Record.ExceptionAsync(() => process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60)));
            string text;
            lock (output)
            {
                text = output.ToString();
            }

            Assert.True(exited is null, $"The AotWorker sample did not exit within 60 s of SIGTERM while --push 1000000 was pushing (its shutdown timeout is 45 s): " +
                $"it went on pushing. Last output:\n{text[Math.Max(0, text.Length - 2000)..]}");
            Assert.True(process.ExitCode == 0 && !text.Contains("Unhandled exception", StringComparison.Ordinal), $"exit code {process.ExitCode}; output:\n{text}");
            await using var processing = dataSource.CreateCommand($"SELECT count(*) FROM \"{schema}\".jobs WHERE state = 1");
            Assert.Equal(0L, (long)(await processing.ExecuteScalarAsync())!);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            await using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
            await drop.ExecuteNonQueryAsync();
        }
    }
}
