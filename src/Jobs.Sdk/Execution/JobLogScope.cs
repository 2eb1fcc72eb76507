namespace Jobs.Sdk;

/// <summary>The logging scope around a job's handler: <c>JobId</c> and <c>JobName</c>.</summary>
internal sealed class JobLogScope(JobId id, string name) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("JobId", id),
        1 => new("JobName", name),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public int Count => 2;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
        yield return this[1];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"JobId:{id} JobName:{name}";
}
