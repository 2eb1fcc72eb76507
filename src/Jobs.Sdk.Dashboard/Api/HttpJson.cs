using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Jobs.Sdk.Dashboard;

/// <summary>Small helpers over source-generated JSON for the dashboard's <see cref="RequestDelegate"/> endpoints.</summary>
internal static class HttpJson
{
    public static Task WriteAsync<T>(HttpContext context, T value, JsonTypeInfo<T> typeInfo, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(value, typeInfo, contentType: null, context.RequestAborted);
    }

    public static Task ErrorAsync(HttpContext context, int status, string message)
        => WriteAsync(context, new ErrorResponse(message), DashboardJsonContext.Default.ErrorResponse, status);

    /// <summary>Reads a JSON body; <see langword="null"/> (after writing a 400) when it is missing or not valid.</summary>
    public static async Task<T?> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        if (!context.Request.HasJsonContentType())
        {
            await ErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, "Send the request body as application/json.");
            return null;
        }

        try
        {
            var value = await context.Request.ReadFromJsonAsync(typeInfo, context.RequestAborted);
            if (value is null)
            {
                await ErrorAsync(context, StatusCodes.Status400BadRequest, "The request body is empty.");
            }

            return value;
        }
        catch (JsonException ex)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, $"The request body is not valid JSON: {ex.Message}");
            return null;
        }
    }

    /// <summary>Runs <paramref name="handler"/>, turning the admin API's <see cref="ArgumentException"/>s into 400s.</summary>
    public static RequestDelegate BadRequestOnArgumentError(RequestDelegate handler) => async context =>
    {
        try
        {
            await handler(context);
        }
        catch (ArgumentException ex) when (!context.Response.HasStarted)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message);
        }
    };
}
