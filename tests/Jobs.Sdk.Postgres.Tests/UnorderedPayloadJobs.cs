namespace Jobs.Sdk.Postgres.Tests;

/// <summary>A unique job without key members whose payload holds a dictionary: the whole payload is the key.</summary>
[Job("test.sync-tags", Unique = true)]
public sealed partial record SyncTags(Guid Account, Dictionary<string, int> Weights);

/// <summary>A unique job without key members whose payload holds a set: the whole payload is the key.</summary>
[Job("test.tag-set", Unique = true)]
public sealed partial record TagSet(Guid Account, HashSet<string> Tags);
