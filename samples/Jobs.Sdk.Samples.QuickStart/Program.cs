// Jobs.Sdk QuickStart: pushes a handful of jobs to the in-memory queue — one delayed, one high-priority, one that
// fails and then succeeds on retry — prints what happens, and exits. No database needed.
using Jobs.Sdk;
using Jobs.Sdk.Samples.QuickStart;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Jobs.Sdk", LogLevel.Error); // the journal below tells the story
builder.Services.AddSingleton<Journal>();
builder.Services.AddSingleton<IMailer, ConsoleMailer>();
builder.Services.AddJobs(jobs => jobs
    .UseInMemory()
    .ConfigureQueue(q => q.DefaultRetryStrategy = JobRetryStrategy.ExponentialJitter(maxAttempts: 3, maxBackoff: TimeSpan.FromMilliseconds(200)))
    .AddSendEmail<SendEmailHandler>()                          // generated from [Job("send-email")]
    .AddFlakyReport<FlakyReportHandler>()
    .AddCleanupTempFiles((job, context, ct) =>                  // a lambda handler
    {
        context.Services.GetRequiredService<Journal>().Done($"cleanup-temp-files: removed files older than {job.OlderThanDays} days");
        return Task.CompletedTask;
    })
    .AddWorkers(o => o.Concurrency = 1));                     // one worker, so the order is easy to follow

using var host = builder.Build();
var queue = host.Services.GetRequiredService<JobQueue>();
var journal = host.Services.GetRequiredService<Journal>();

journal.Write("pushing 5 jobs");
await queue.PushSendEmailAsync("ada@example.com", "Welcome aboard");
await queue.PushSendEmailAsync("grace@example.com", "Runs in 1 second",
    new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddSeconds(1) });
await queue.PushFlakyReportAsync("quarterly");
await queue.PushCleanupTempFilesAsync(7, new JobOptions { Priority = JobPriority.Lowest });
var urgent = await queue.PushSendEmailAsync("ops@example.com", "URGENT: disk almost full",
    new JobOptions { Priority = JobPriority.Highest });
journal.Write($"pushed; the urgent e-mail is job {urgent}; starting the worker");
await host.StartAsync();                                      // the urgent job runs first: highest priority

await journal.WaitForAsync(expected: 5, TimeSpan.FromSeconds(30));
await host.StopAsync();
journal.Write("all jobs done; bye");

namespace Jobs.Sdk.Samples.QuickStart
{
    /// <summary>Sends one e-mail.</summary>
    /// <param name="To">Recipient address.</param>
    /// <param name="Subject">Subject line.</param>
    [Job("send-email", MaxAttempts = 5, TimeoutSeconds = 30)]
    public partial record SendEmail(string To, string Subject);

    /// <summary>Builds a report; the first attempt fails to show retries.</summary>
    /// <param name="Name">Report name.</param>
    [Job("flaky-report")]
    public partial record FlakyReport(string Name);

    /// <summary>Removes old temporary files.</summary>
    /// <param name="OlderThanDays">Age threshold in days.</param>
    [Job("cleanup-temp-files")]
    public partial record CleanupTempFiles(int OlderThanDays);

    public interface IMailer
    {
        Task SendAsync(string to, string subject, CancellationToken cancellationToken);
    }

    public sealed class ConsoleMailer(Journal journal) : IMailer
    {
        public Task SendAsync(string to, string subject, CancellationToken cancellationToken)
        {
            journal.Done($"send-email: to={to} subject=\"{subject}\"");
            return Task.CompletedTask;
        }
    }

    public sealed class SendEmailHandler(IMailer mailer) : IJobHandler<SendEmail>
    {
        public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken)
            => mailer.SendAsync(job.To, job.Subject, cancellationToken);
    }

    public sealed class FlakyReportHandler(Journal journal) : IJobHandler<FlakyReport>
    {
        public Task HandleAsync(FlakyReport job, JobContext context, CancellationToken cancellationToken)
        {
            if (context.Attempt == 1)
            {
                journal.Write($"flaky-report: attempt {context.Attempt} of '{job.Name}' fails; it will be retried");
                throw new InvalidOperationException("report service not warmed up yet");
            }

            journal.Done($"flaky-report: attempt {context.Attempt} of '{job.Name}' succeeded");
            return Task.CompletedTask;
        }
    }

    /// <summary>Prints timestamped lines and counts finished jobs.</summary>
    public sealed class Journal
    {
        private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
        private readonly TaskCompletionSource _allDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _done;
        private int _expected = int.MaxValue;

        /// <summary>Prints a line.</summary>
        public void Write(string line) => Console.WriteLine($"[+{(DateTimeOffset.UtcNow - _start).TotalMilliseconds,6:F0} ms] {line}");

        /// <summary>Prints a line for a finished job and counts it.</summary>
        public void Done(string line)
        {
            Write(line);
            if (Interlocked.Increment(ref _done) >= Volatile.Read(ref _expected))
            {
                _allDone.TrySetResult();
            }
        }

        /// <summary>Waits until <paramref name="expected"/> jobs have finished.</summary>
        public Task WaitForAsync(int expected, TimeSpan timeout)
        {
            Volatile.Write(ref _expected, expected);
            if (Volatile.Read(ref _done) >= expected)
            {
                _allDone.TrySetResult();
            }

            return _allDone.Task.WaitAsync(timeout);
        }
    }
}
