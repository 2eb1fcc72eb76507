using ConsoleAppFramework;
using Jobs.Sdk.Cli;

// jobs: operate a Jobs.Sdk PostgreSQL job store (see `jobs --help`). Exit codes: ExitCodes (README.md lists them).
return await JobsCli.RunAsync(args);

namespace Jobs.Sdk.Cli
{
    /// <summary>The command-line entry point (also called in-process by tests).</summary>
    public static class JobsCli
    {
        /// <summary>Runs one command; returns the exit code.</summary>
        public static async Task<int> RunAsync(string[] args)
        {
            Environment.ExitCode = 0;
            UnknownCommand.Reset();
            MissingArguments.Reset();
            Interruption.Reset();
            CommandTimeout.Reset();
            Login.Reset();
            TerminalText.Install();
            PasswordMask.Install();
            // ConsoleAppFramework prints its own errors (an option it cannot parse or does not know) with Console.WriteLine:
            // on stdout, where a script reading --json output expects the document or nothing. Errors go to stderr.
            ConsoleApp.LogError = static message => Console.Error.WriteLine("error: " + message);
            ConsoleApp.Log = RootHelp.WithCommonOptions(MissingArguments.Watch(UnknownCommand.HelpWriter(args), UnknownCommand.AskedForHelp(args)));
            var app = ConsoleApp.Create();
            app.ConfigureGlobalOptions(static (ref ConsoleApp.GlobalOptionsBuilder builder) =>
            {
                // Text, checked by CommandTimeout when the command opens its connection: its own message, exit 64.
                CommandTimeout.Set(builder.AddGlobalOption<string?>(CommandTimeout.Option, CommandTimeout.Description));
                return new object();
            });
            app.UseFilter<UnknownCommand>();
            app.UseFilter<UnhandledFailure>();
            app.UseFilter<Interruption>();
            app.Add<StatusCommands>();
            app.Add<JobCommands>();
            app.Add<QueueCommands>("queue");
            app.Add<ScheduleCommands>();
            app.Add<AuditCommands>();
            app.Add<MaintenanceCommands>();
            app.Add<DoctorCommands>();
            await app.RunAsync(args).ConfigureAwait(false);
            return Environment.ExitCode = MissingArguments.Check(UnknownCommand.Check(args, Environment.ExitCode));
        }
    }
}
