using System.Collections.Frozen;

namespace Jobs.Sdk;

/// <summary>Job name → definition, frozen when the container is built.</summary>
internal sealed class JobRegistry
{
    private readonly FrozenDictionary<string, JobDefinition> _byName;

    public JobRegistry(IEnumerable<JobDefinition> definitions)
    {
        var map = new Dictionary<string, JobDefinition>(StringComparer.Ordinal);
        foreach (var definition in definitions)
        {
            if (!map.TryAdd(definition.Name, definition))
            {
                var existing = map[definition.Name];
                throw new InvalidOperationException(
                    $"Two handlers are registered for job '{definition.Name}' ({existing.JobType.FullName} and {definition.JobType.FullName}). " +
                    "Register each job once: remove the duplicate AddJob/Add{Job} call.");
            }
        }

        _byName = map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public bool TryGet(string name, out JobDefinition definition) => _byName.TryGetValue(name, out definition!);

    public IEnumerable<string> Names => _byName.Keys;

    public IEnumerable<JobDefinition> Definitions => _byName.Values;

    public int Count => _byName.Count;
}
