namespace Jobs.Sdk;

/// <summary>
/// Job priority. Higher priorities run first; among equal priorities the job due earliest runs first.
/// A delay always wins over priority: a delayed job never runs before its time.
/// </summary>
public enum JobPriority : short
{
    /// <summary>Runs only when nothing else is waiting.</summary>
    Lowest = 0,
    /// <summary>Below normal.</summary>
    Lower = 1,
    /// <summary>The default.</summary>
    Normal = 2,
    /// <summary>Above normal.</summary>
    Higher = 3,
    /// <summary>Runs before everything else that is due.</summary>
    Highest = 4,
}
