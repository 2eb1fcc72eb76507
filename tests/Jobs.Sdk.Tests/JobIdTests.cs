namespace Jobs.Sdk.Tests;

public class JobIdTests
{
    [Fact]
    public void Ids_made_by_one_process_are_strictly_increasing_even_within_a_millisecond()
    {
        // JobOrder.Newest lists by id descending: ids pushed in one millisecond must keep push order too.
        var ids = new JobId[100_000];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = JobId.New();
        }

        for (var i = 1; i < ids.Length; i++)
        {
            Assert.True(ids[i - 1].Value.CompareTo(ids[i].Value) < 0, $"id {i} ({ids[i]}) does not sort after id {i - 1} ({ids[i - 1]})");
        }
    }

    [Fact]
    public void Ids_are_version_7_uuids_carrying_the_time_they_were_made()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var id = JobId.New().Value;
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal(7, id.Version);
        Assert.Equal(0b10, id.Variant >> 2);
        var bytes = id.ToByteArray(bigEndian: true);
        var ms = ((long)bytes[0] << 40) | ((long)bytes[1] << 32) | ((long)bytes[2] << 24) | ((long)bytes[3] << 16) | ((long)bytes[4] << 8) | bytes[5];
        Assert.InRange(ms, before, after + 1);
    }
}
