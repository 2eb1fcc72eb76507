using System.Diagnostics;
using System.Text;
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
        using var running = Start(connection, args);
        return await running.ExitAsync();
    }

    /// <summary>Starts <c>jobs {args}</c> and returns at once: the test acts while it runs (signals it), then awaits its exit.</summary>
    public static Running Start(string? connection, params string[] args)
    {
        // Through env --default-signal=INT (which execs the tool: same process): a process started from a shell's background
        // job (a CI script run with `&`) inherits SIGINT ignored, so the tool would never see the test's Ctrl+C; an
        // operator's terminal gives it the default disposition, which this restores.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
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

        return new Running(Process.Start(start)!, args);
    }

    /// <summary>A started <c>jobs</c> process (<c>dotnet jobs.dll</c> runs the tool in the <c>dotnet</c> process itself).</summary>
    public sealed class Running : IDisposable
    {
        private readonly Process _process;
        private readonly string[] _args;
        private readonly Task<string> _stdout;
        private readonly Task<string> _stderr;
        private readonly StringBuilder _stderrSoFar = new();
        private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> _lineWaiters = [];

        internal Running(Process process, string[] args)
        {
            _process = process;
            _args = args;
            _stdout = process.StandardOutput.ReadToEndAsync();
            _stderr = ReadErrorAsync(process.StandardError);
        }

        public bool HasExited => _process.HasExited;

        /// <summary>
        /// The first line the tool writes on stderr that <paramref name="match"/> accepts (also one written before the call),
        /// while it runs; fails when none came within <paramref name="deadline"/> or the tool exited without one.
        /// </summary>
        public async Task<string> ErrorLineAsync(Func<string, bool> match, TimeSpan deadline)
        {
            var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_stderrSoFar)
            {
                if (_stderrSoFar.ToString().Split('\n').FirstOrDefault(match) is { } line)
                {
                    return line;
                }

                _lineWaiters.Add((match, seen));
            }

            try
            {
                return await seen.Task.WaitAsync(deadline);
            }
            catch (TimeoutException)
            {
                lock (_stderrSoFar)
                {
                    throw new TimeoutException($"jobs {string.Join(' ', _args)} wrote no such line on stderr within {deadline.TotalSeconds} s; so far:\n{_stderrSoFar}");
                }
            }
        }

        private async Task<string> ReadErrorAsync(StreamReader reader)
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                lock (_stderrSoFar)
                {
                    _stderrSoFar.Append(line).Append('\n');
                    foreach (var waiter in _lineWaiters.Where(w => w.Match(line)).ToArray())
                    {
                        waiter.Seen.TrySetResult(line);
                        _lineWaiters.Remove(waiter);
                    }
                }
            }

            lock (_stderrSoFar)
            {
                foreach (var waiter in _lineWaiters)
                {
                    waiter.Seen.TrySetException(new InvalidOperationException($"jobs {string.Join(' ', _args)} closed stderr without such a line:\n{_stderrSoFar}"));
                }

                _lineWaiters.Clear();
                return _stderrSoFar.ToString();
            }
        }

        /// <summary>Sends <paramref name="signal"/> (INT: Ctrl+C, TERM: a service manager's stop) to the tool, with kill(1).</summary>
        public async Task SignalAsync(string signal)
        {
            using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            Assert.True(kill.ExitCode == 0, $"kill -{signal} {_process.Id} failed (the tool exited already?)");
        }

        /// <summary>Waits for the tool to exit (a hang fails the test after 60 s) and returns what it printed.</summary>
        public async Task<Result> ExitAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                throw new TimeoutException($"jobs {string.Join(' ', _args)} did not finish within 60 s.");
            }

            return new Result(_process.ExitCode, await _stdout, await _stderr);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }
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
