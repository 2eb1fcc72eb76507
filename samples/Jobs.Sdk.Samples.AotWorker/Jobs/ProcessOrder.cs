using Jobs.Sdk;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Samples.AotWorker.Jobs;

/// <summary>A customer placing an order.</summary>
/// <param name="Name">Display name.</param>
/// <param name="Email">Contact address.</param>
public sealed record Customer(string Name, string Email);

/// <summary>One line of an order.</summary>
/// <param name="Sku">Stock-keeping unit.</param>
/// <param name="Quantity">How many.</param>
/// <param name="UnitPrice">Price of one item.</param>
public sealed record OrderLine(string Sku, int Quantity, decimal UnitPrice);

/// <summary>Processes an order: a job with a nested record and a list.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Customer">Who ordered.</param>
/// <param name="Lines">What was ordered.</param>
[Job("process-order", MaxAttempts = 3, TimeoutSeconds = 60)]
public partial record ProcessOrder(Guid OrderId, Customer Customer, List<OrderLine> Lines);

/// <summary>Handles <see cref="ProcessOrder"/>.</summary>
public sealed partial class ProcessOrderHandler(ILogger<ProcessOrderHandler> logger, WorkerStats stats) : IJobHandler<ProcessOrder>
{
    /// <inheritdoc />
    public Task HandleAsync(ProcessOrder job, JobContext context, CancellationToken cancellationToken)
    {
        var total = job.Lines.Sum(l => l.Quantity * l.UnitPrice);
        LogProcessed(logger, job.OrderId, job.Customer.Name, job.Lines.Count, total);
        stats.Completed(job: "process-order");
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId} for {Customer}: {Lines} lines, total {Total}")]
    private static partial void LogProcessed(ILogger logger, Guid orderId, string customer, int lines, decimal total);
}
