namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A <see cref="Uri"/> member made from a local path (<c>new Uri(Path.GetFullPath(...))</c>) is an absolute <c>file:</c> URI
/// whose original string is the bare path. The payload used to carry that string, which reads back as a relative URI
/// on Linux (where a rooted path is relative for <see cref="UriKind.RelativeOrAbsolute"/>): the handler's
/// <see cref="Uri.LocalPath"/> threw and <see cref="Uri.IsFile"/> was false. Relative and other absolute URIs keep their text.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FileUriPayloadTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_file_uri_made_from_a_local_path_reaches_the_handler_absolute_with_its_path()
    {
        var seen = new Recorder<FileUriJob>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddFileUriJob((job, _, _) =>
        {
            seen.Add(job);
            return Task.CompletedTask;
        }));
        await q.StartAsync();
        var report = new Uri(Path.GetFullPath(Path.Combine("exports", "report 2026 #3.csv")));
        var archive = new Uri(Path.GetFullPath("archive.zip"));
        var relative = new Uri("/orders/5", UriKind.Relative);
        var web = new Uri("https://example.com/a b?q=1#top");

        await q.Queue.PushFileUriJobAsync(report, archive, [relative, web, report]);
        await seen.WaitForCountAsync(1, 60);

        var read = Assert.Single(seen.Items);
        var pushed = new[] { report, archive, relative, web, report };
        var handled = new[] { read.File, read.Maybe! }.Concat(read.More).ToArray();
        var differences = pushed.Zip(handled, (p, h) => Describe(p) == Describe(h) ? null : $"pushed as {Describe(p)}, handled as {Describe(h)}")
            .OfType<string>().ToList();
        Assert.True(differences.Count == 0 && handled.Length == pushed.Length,
            $"URIs reached the handler changed ({handled.Length} of {pushed.Length}): " + string.Join("; ", differences));
        Assert.Equal(report.LocalPath, read.File.LocalPath);
    }

    /// <summary>What a handler sees of a URI: absolute or not, equality's view, and the path a file URI opens.</summary>
    private static string Describe(Uri uri)
        => uri.IsAbsoluteUri
            ? $"absolute {uri.Scheme} URI {uri.AbsoluteUri}" + (uri.IsFile ? $" (local path {uri.LocalPath})" : "")
            : $"relative URI {uri.OriginalString}";
}

/// <summary>URIs of every kind, file URIs made from local paths among them.</summary>
/// <param name="File">A file URI.</param>
/// <param name="Maybe">A nullable one.</param>
/// <param name="More">URIs in a list.</param>
[Job("test.file-uri")]
public sealed partial record FileUriJob(Uri File, Uri? Maybe, List<Uri> More);
