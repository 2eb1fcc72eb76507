using System.Diagnostics;
using System.Text.Json;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>Runs the built <c>jobs</c> tool (src/Jobs.Sdk.Cli's jobs.dll) as a real process.</summary>
public static class JobsTool
{
    private static readonly Lazy<string> Dll = new(Locate);

    public sealed record Result(int ExitCode, string Out, string Error)
    {
        public JsonElement Json => JsonDocument.Parse(Out).RootElement;
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
    }

    public static async Task<Result> RunAsync(string? connection, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Dll.Value);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment.Remove("JOBS_CONNECTION");
        if (connection is not null)
        {
            start.Environment["JOBS_CONNECTION"] = connection;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"jobs {string.Join(' ', args)} did not finish within 60 s.");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    private static string Locate()
    {
        // tests/Jobs.Sdk.Cli.Tests/bin/<Configuration>/net10.0/ -> src/Jobs.Sdk.Cli/bin/<Configuration>/net10.0/jobs.dll
        var here = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var tfm = Path.GetFileName(here);
        var configuration = Path.GetFileName(Path.GetDirectoryName(here)!);
        var root = Path.GetFullPath(Path.Combine(here, "..", "..", "..", "..", ".."));
        var dll = Path.Combine(root, "src", "Jobs.Sdk.Cli", "bin", configuration, tfm, "jobs.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"The jobs tool was not found at {dll}. Build src/Jobs.Sdk.Cli (the test project references it).");
    }
}
