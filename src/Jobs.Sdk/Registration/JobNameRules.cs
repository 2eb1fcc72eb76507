using System.Globalization;

namespace Jobs.Sdk;

/// <summary>
/// What a job name must be: the rules the analyzer checks on <c>[Job(name)]</c> (JOBS007,
/// <c>JobDeclarationAnalyzer.ValidateJobName</c>; keep the two equal), plus an unpaired surrogate, which no store can hold
/// (<see cref="JobTextLimits"/>). Checked when a job type is registered, so the name of a hand-written
/// <see cref="IJob{TSelf}"/>, which no analyzer sees, fails at start-up rather than at its first push or never.
/// </summary>
internal static class JobNameRules
{
    /// <summary>The longest job name, in UTF-16 code units (<see cref="JobAttribute.Name"/>).</summary>
    public const int MaxLength = 255;

    /// <summary>Throws unless <typeparamref name="TJob"/>'s <see cref="IJob{TSelf}.JobName"/> is a valid job name.</summary>
    public static void Check<TJob>() where TJob : IJob<TJob>
    {
        var name = TJob.JobName;
        if (Problem(name) is { } problem)
        {
            throw new InvalidOperationException(
                $"Job type '{typeof(TJob).Name}' has an invalid job name {JobTextLimits.Quote(name)}: {problem}. IJob<TSelf>.JobName is stored with every "
                + $"queued job and finds its handler: it must be 1 to {MaxLength} characters, with no whitespace at either end, no control characters "
                + "or unpaired surrogates (as [Job(name)] requires, JOBS007). Return a stable name such as 'send-email'.");
        }
    }

    /// <summary>Why <paramref name="name"/> is not a valid job name, or <see langword="null"/> when it is.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "it is empty";
        }

        if (name.Length > MaxLength)
        {
            return $"it is {name.Length.ToString(CultureInfo.InvariantCulture)} characters long (at most {MaxLength.ToString(CultureInfo.InvariantCulture)})";
        }

        if (string.IsNullOrWhiteSpace(name))
        {
            return "it is only whitespace";
        }

        if (JobTextLimits.WhiteSpaceProblem(name) is not null)
        {
            // Another name than its trimmed form: a worker of 'send-email' would never claim jobs of 'send-email '.
            return "it starts or ends with whitespace";
        }

        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsControl(name[i]))
            {
                return $"it contains the control character U+{(int)name[i]:X4} at index {i.ToString(CultureInfo.InvariantCulture)}";
            }
        }

        return JobTextLimits.IndexOfUnpairedSurrogate(name) is var at and >= 0
            ? $"it contains an unpaired surrogate (U+{(int)name[at]:X4}) at index {at.ToString(CultureInfo.InvariantCulture)}"
            : null;
    }
}
