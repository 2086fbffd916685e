using Microsoft.AspNetCore.Http.Metadata;

namespace Heimdex.Api;

/// <summary>
/// Request bodies are small unless a route says otherwise: a JSON route takes at most <see cref="DefaultBytes"/>, and
/// a larger body is answered 413 before it is read. Routes that take files raise or lift the limit; uploads then
/// enforce their own as they stream.
/// </summary>
public static class RequestBodyLimits
{
    public const long DefaultBytes = 1024 * 1024;

    /// <summary>Room for a multipart form's headers and boundaries around a file of the route's own limit.</summary>
    public const long FormOverheadBytes = 64 * 1024;

    /// <param name="maxBytes">The largest body the route reads; null for routes that enforce a limit of their own while streaming.</param>
    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, long? maxBytes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BodyLimit(maxBytes));

    private sealed class BodyLimit(long? maxBytes) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => maxBytes;
    }
}
