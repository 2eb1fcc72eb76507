namespace Jobs.Sdk.Dashboard.Tests;

[Job("test-email")]
public partial record TestEmail(string To, string Subject);

public sealed class TestEmailHandler : IJobHandler<TestEmail>
{
    public Task HandleAsync(TestEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
