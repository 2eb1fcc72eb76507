using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Jobs.Sdk.Dashboard.Assets;

/// <summary>The page's HTML, CSS and JavaScript, embedded in this assembly (resource names <c>JobsDashboard/…</c>).</summary>
internal static class DashboardAssets
{
    private const string Prefix = "JobsDashboard/";
    private static readonly Lazy<FrozenDictionary<string, Asset>> All = new(Load);

    /// <summary>Serves the page shell (index.html); redirects <c>/jobs</c> to <c>/jobs/</c> so relative URLs resolve.</summary>
    public static Task ServeIndexAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (!path.EndsWith('/'))
        {
            context.Response.Redirect($"{context.Request.PathBase}{path}/{context.Request.QueryString}");
            return Task.CompletedTask;
        }

        return ServeAsync(context, "index.html");
    }

    /// <summary>Serves <c>assets/{file}</c>; 404 for anything not embedded.</summary>
    public static Task ServeFileAsync(HttpContext context)
    {
        var file = context.Request.RouteValues["file"] as string ?? "";
        return ServeAsync(context, file);
    }

    public static bool Exists(string name) => All.Value.ContainsKey(name);

    private static async Task ServeAsync(HttpContext context, string name)
    {
        if (!All.Value.TryGetValue(name, out var asset))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var response = context.Response;
        response.ContentType = asset.ContentType;
        response.Headers.CacheControl = "no-cache";
        response.Headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.ContentLength = asset.Content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(asset.Content, context.RequestAborted);
        }
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var name = resource[Prefix.Length..].Replace('\\', '/');
            var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8))}\"";
            assets[name] = new Asset(content, ContentTypeOf(name), etag);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".ico" => "image/x-icon",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Content, string ContentType, string ETag);
}
