// Consumer of the packed Jobs.Sdk packages (see the .csproj): a [Job] pushed through its generated method and handled by
// the in-memory driver's worker; a second [Job] is pushed without a handler, which must raise the JOBS001 warning at build.
using Jobs.Sdk;
using Jobs.Sdk.Postgres;
using Microsoft.Extensions.DependencyInjection;
using PackageConsumer;

var services = new ServiceCollection();
var handled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
services.AddSingleton(handled);
services.AddJobs(jobs => jobs
    .UseInMemory()
    .AddGreet<GreetHandler>()        // generated from [Job("greet")]
    .AddWorkers());

await using var provider = services.BuildServiceProvider();
var worker = provider.GetRequiredService<JobWorker>();
await worker.StartAsync(CancellationToken.None);
var queue = provider.GetRequiredService<JobQueue>();
var id = await queue.PushGreetAsync("packages");   // generated, typed push
var text = await handled.Task.WaitAsync(TimeSpan.FromSeconds(30));
await queue.PushAsync(new Unregistered(1));        // JOBS001: no handler is registered for 'unregistered'
await worker.StopAsync(CancellationToken.None);

Console.WriteLine($"handled {id}: {text}");
Console.WriteLine($"postgres package: {PostgresJobMigrations.GetMigrations().Count} migrations");

namespace PackageConsumer
{
    /// <summary>Greets someone.</summary>
    /// <param name="Name">Who.</param>
    [Job("greet")]
    public partial record Greet(string Name);

    /// <summary>Never handled in this project.</summary>
    /// <param name="Value">A value.</param>
    [Job("unregistered")]
    public partial record Unregistered(int Value);

    public sealed class GreetHandler(TaskCompletionSource<string> handled) : IJobHandler<Greet>
    {
        public Task HandleAsync(Greet job, JobContext context, CancellationToken cancellationToken)
        {
            handled.TrySetResult($"Hello, {job.Name} (attempt {context.Attempt})");
            return Task.CompletedTask;
        }
    }
}
