namespace Jobs.Sdk;

/// <summary>What a push did: the job's id, and whether it was inserted or an existing job held its unique key.</summary>
/// <param name="Id">The new job's id, or the id of the existing job that holds the unique key.</param>
/// <param name="Inserted"><see langword="true"/> when a new job was stored; <see langword="false"/> when a unique key was held.</param>
public readonly record struct JobPushResult(JobId Id, bool Inserted);
