namespace Jobs.Sdk.Tests.Execution;

/// <summary>The attempt limit stored at push: push options, then registration strategy, then [Job(MaxAttempts)], then the queue default.</summary>
public class JobRetryPolicyTests
{
    private static JobRetryPolicy Policy(IJobRetryStrategy? registration, int defaultMax = 4)
        => new(new JobRegistry(registration is null ? [] : [new JobDefinition<LimitedJob>((_, _, _, _) => Task.CompletedTask, registration, null)]),
            new JobQueueOptions { DefaultRetryStrategy = JobRetryStrategy.ExponentialJitter(maxAttempts: defaultMax) });

    [Fact]
    public void Push_options_win_over_everything_higher_or_lower()
    {
        Assert.Equal(10, Policy(JobRetryStrategy.ExponentialJitter(6)).MaxAttemptsFor(LimitedJob.JobName, LimitedJob.MaxAttempts, new JobOptions { MaxAttempts = 10 }));
        Assert.Equal(1, Policy(JobRetryStrategy.ExponentialJitter(6)).MaxAttemptsFor(LimitedJob.JobName, LimitedJob.MaxAttempts, new JobOptions { MaxAttempts = 1 }));
    }

    [Fact]
    public void Then_the_registration_strategy_then_the_attribute_then_the_queue_default()
    {
        Assert.Equal(6, Policy(JobRetryStrategy.ExponentialJitter(6)).MaxAttemptsFor(LimitedJob.JobName, LimitedJob.MaxAttempts, JobOptions.Default));
        Assert.Equal(2, Policy(null).MaxAttemptsFor(LimitedJob.JobName, LimitedJob.MaxAttempts, JobOptions.Default));
        Assert.Equal(7, Policy(null, defaultMax: 7).MaxAttemptsFor(ValueJob.JobName, null, JobOptions.Default));
    }

    [Fact]
    public void A_push_limit_below_one_is_rejected()
        => Assert.Throws<ArgumentOutOfRangeException>(() => Policy(null).MaxAttemptsFor(ValueJob.JobName, null, new JobOptions { MaxAttempts = 0 }));
}
