using System.Globalization;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// One process's CPU counters from <c>/proc/&lt;pid&gt;/stat</c>, in clock ticks (10 ms): its own user and system time,
/// and those of its children that exited and were reaped (<c>cutime</c>/<c>cstime</c>).
/// </summary>
internal readonly record struct ProcStat(int Pid, int ParentPid, string Command, long User, long System, long ChildrenUser, long ChildrenSystem)
{
    /// <summary>Every process this user can read; one that exits while being read is left out.</summary>
    public static IEnumerable<ProcStat> All()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // exited, or not ours to read
            }

            // pid (comm) state ppid ... : fields after the closing parenthesis; utime = 14, stime = 15, cutime = 16, cstime = 17.
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long At(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
            yield return new ProcStat(int.Parse(name, CultureInfo.InvariantCulture), (int)At(1),
                stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')], At(11), At(12), At(13), At(14));
        }
    }
}
