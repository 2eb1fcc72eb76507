using System.Transactions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Pushes from EF Core: in a <c>db.Database.BeginTransactionAsync()</c> transaction (EF's own data source), under its
/// retrying execution strategy re-running a block that pushed, and in a <see cref="TransactionScope"/> with EF on the
/// driver's data source (README, "Transactional push").
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class EfCoreTransactionTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Push_in_an_EF_Core_transaction_commits_and_rolls_back_with_it()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        await using var efSource = NpgsqlDataSource.Create(fixture.ConnectionString); // EF's own data source
        var marker = Guid.NewGuid().ToString("N");
        JobId committed, rolledBack;
        await using (var db = await OrdersContext.CreateAsync(efSource))
        {
            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                db.Orders.Add(new Order { Id = Guid.NewGuid(), Marker = marker });
                await db.SaveChangesAsync();
                committed = await q.Queue.PushAsync(new ValueJob(1), transaction.GetDbTransaction());
                await transaction.CommitAsync();
            }

            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                db.Orders.Add(new Order { Id = Guid.NewGuid(), Marker = marker });
                await db.SaveChangesAsync();
                rolledBack = await q.Queue.PushAsync(new ValueJob(2), transaction.GetDbTransaction());
                await transaction.RollbackAsync();
            }
        }

        Assert.Equal(1, await OrdersContext.CountAsync(efSource, marker));
        Assert.NotNull(await q.Queue.GetJobAsync(committed));
        Assert.Null(await q.Queue.GetJobAsync(rolledBack));
    }

    [Fact]
    public async Task Retrying_execution_strategy_rerunning_a_block_that_pushed_stores_its_job_once()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        await using var efSource = NpgsqlDataSource.Create(fixture.ConnectionString);
        var marker = Guid.NewGuid().ToString("N");
        var pushed = new List<JobId>();
        await using (var db = await OrdersContext.CreateAsync(efSource, retry: true))
        {
            await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
            {
                db.ChangeTracker.Clear();
                await using var transaction = await db.Database.BeginTransactionAsync();
                db.Orders.Add(new Order { Id = Guid.NewGuid(), Marker = marker });
                await db.SaveChangesAsync();
                pushed.Add(await q.Queue.PushAsync(new ValueJob(pushed.Count + 1), transaction.GetDbTransaction()));
                if (pushed.Count == 1)
                {
                    // The first attempt's session dies before its commit (a failover, a proxy reset): EF retries the block.
                    await using var kill = efSource.CreateCommand("SELECT pg_terminate_backend($1)");
                    kill.Parameters.AddWithValue(((NpgsqlConnection)db.Database.GetDbConnection()).ProcessID);
                    await kill.ExecuteScalarAsync();
                }

                await transaction.CommitAsync();
            });
        }

        Assert.Equal(2, pushed.Count);
        Assert.Equal(1, await OrdersContext.CountAsync(efSource, marker));
        Assert.Null(await q.Queue.GetJobAsync(pushed[0])); // the failed attempt's push went with its transaction
        Assert.NotNull(await q.Queue.GetJobAsync(pushed[1]));
        Assert.Equal(1, (await q.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task EF_Core_on_the_drivers_data_source_and_a_push_share_a_TransactionScope()
    {
        var shared = NpgsqlDataSource.Create(fixture.ConnectionString); // one data source for EF and the driver (TestQueue disposes it)
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), dataSource: shared);
        var marker = Guid.NewGuid().ToString("N");
        JobId committed, rolledBack;
        await using (var db = await OrdersContext.CreateAsync(shared))
        {
            using (var scope = new TransactionScope(TransactionScopeOption.Required,
                new TransactionOptions { IsolationLevel = IsolationLevel.ReadCommitted }, TransactionScopeAsyncFlowOption.Enabled))
            {
                db.Orders.Add(new Order { Id = Guid.NewGuid(), Marker = marker });
                await db.SaveChangesAsync(); // EF opens, enlists and closes: the pool keeps the session for the scope
                committed = await q.Queue.PushAsync(new ValueJob(1)); // on that same session
                scope.Complete();
            }

            db.ChangeTracker.Clear();
            using (new TransactionScope(TransactionScopeOption.Required, TransactionScopeAsyncFlowOption.Enabled))
            {
                db.Orders.Add(new Order { Id = Guid.NewGuid(), Marker = marker });
                await db.SaveChangesAsync();
                rolledBack = await q.Queue.PushAsync(new ValueJob(2));
            }
        }

        Assert.Equal(1, await OrdersContext.CountAsync(shared, marker));
        Assert.NotNull(await q.Queue.GetJobAsync(committed));
        Assert.Null(await q.Queue.GetJobAsync(rolledBack));
    }
}

public sealed class Order
{
    public Guid Id { get; set; }

    public string Marker { get; set; } = "";
}

public sealed class OrdersContext(DbContextOptions<OrdersContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    public static async Task<OrdersContext> CreateAsync(NpgsqlDataSource dataSource, bool retry = false)
    {
        var options = new DbContextOptionsBuilder<OrdersContext>()
            .UseNpgsql(dataSource, o =>
            {
                if (retry)
                {
                    o.EnableRetryOnFailure(3, TimeSpan.FromMilliseconds(10), null);
                }
            })
            .Options;
        var db = new OrdersContext(options);
        await db.Database.ExecuteSqlRawAsync("CREATE TABLE IF NOT EXISTS public.jobs_ef_orders (id uuid PRIMARY KEY, marker text NOT NULL)");
        return db;
    }

    public static async Task<long> CountAsync(NpgsqlDataSource dataSource, string marker)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM public.jobs_ef_orders WHERE marker = $1");
        command.Parameters.AddWithValue(marker);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.Entity<Order>(e =>
    {
        e.ToTable("jobs_ef_orders", "public");
        e.Property(o => o.Id).HasColumnName("id");
        e.Property(o => o.Marker).HasColumnName("marker");
    });
}
