namespace Jobs.Sdk.Cli;

/// <summary>How bad a doctor finding is. Only <see cref="Problem"/> makes <c>jobs doctor</c> exit non-zero.</summary>
internal enum Verdict
{
    Ok = 0,
    Warning = 1,
    Problem = 2,
}

/// <summary>One check's result: a plain verdict, what was seen, and what to do.</summary>
internal sealed record DoctorFinding(string Check, Verdict Verdict, string Detail, string? Advice = null);
