namespace Jobs.Sdk.Postgres;

/// <summary>One versioned schema change of the PostgreSQL driver.</summary>
/// <param name="Version">Position in the migration list (1-based, no gaps).</param>
/// <param name="Name">Stable name recorded in the migrations table.</param>
/// <param name="Sql">The SQL, with the schema already substituted.</param>
public sealed record PostgresMigration(int Version, string Name, string Sql);
