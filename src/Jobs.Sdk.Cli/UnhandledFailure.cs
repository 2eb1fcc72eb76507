using System.ComponentModel.DataAnnotations;
using ConsoleAppFramework;

namespace Jobs.Sdk.Cli;

/// <summary>
/// The exit code of what escapes a command: ConsoleAppFramework exits 1 for all of it, its own parse errors (an option
/// the command does not have, a value it cannot read, a required argument missing) as for a bug in the tool. A parse error
/// exits <see cref="ExitCodes.Usage"/> (a script's command line to fix), anything else <see cref="ExitCodes.Software"/>
/// with its stack trace; a cancellation goes on to ConsoleAppFramework (exit 130).
/// </summary>
internal sealed class UnhandledFailure(ConsoleAppFilter next) : ConsoleAppFilter(next)
{
    public override async Task InvokeAsync(ConsoleAppContext context, CancellationToken cancellationToken)
    {
        try
        {
            await Next.InvokeAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentParseFailedException or ValidationException)
        {
            ConsoleApp.LogError(ex.Message);
            Environment.ExitCode = ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ConsoleApp.LogError(ex.ToString());
            Environment.ExitCode = ExitCodes.Software;
        }
    }
}
