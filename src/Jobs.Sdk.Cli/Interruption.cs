using ConsoleAppFramework;

namespace Jobs.Sdk.Cli;

/// <summary>
/// Ctrl+C (SIGINT), SIGTERM and SIGQUIT: ConsoleAppFramework cancels the token it hands its filters (and force-exits 130
/// five seconds later). This filter keeps that token for the command, which passes it to every database call: the
/// statement running is cancelled on the server (a statement waiting for a lock would otherwise run, and commit, after the
/// tool was gone), and <see cref="CliRunner"/> says what was done and exits <see cref="ExitCodes.Interrupted"/>.
/// </summary>
internal sealed class Interruption(ConsoleAppFilter next) : ConsoleAppFilter(next)
{
    /// <summary>Cancelled when the running command is asked to stop; one command per process run.</summary>
    public static CancellationToken Token { get; private set; }

    public static void Reset() => Token = CancellationToken.None;

    public override Task InvokeAsync(ConsoleAppContext context, CancellationToken cancellationToken)
    {
        Token = cancellationToken;
        return Next.InvokeAsync(context, cancellationToken);
    }
}
