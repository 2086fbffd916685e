using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using StackExchange.Redis;

namespace Heimdex.Api;

/// <summary>
/// A request that failed because a server behind the API (PostgreSQL, Redis, storage) could not be reached answers
/// 503 with Retry-After instead of 500: nothing was wrong with the request, and it works again once the server is back.
/// </summary>
public sealed class ServerUnavailable(IProblemDetailsService problems, ILogger<ServerUnavailable> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    /// <summary>PostgreSQL's codes for a server shutting down, starting up or out of connections.</summary>
    private static readonly string[] UnavailableStates =
        [PostgresErrorCodes.AdminShutdown, PostgresErrorCodes.CrashShutdown, PostgresErrorCodes.CannotConnectNow, PostgresErrorCodes.TooManyConnections];

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (Unreachable(exception) is not { } server)
        {
            return false;
        }

        logger.LogWarning(exception, "{Server} could not be reached; answered 503", server);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = $"{RetryAfterSeconds}";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service unavailable",
                Detail = $"{server} cannot be reached right now; try again in a few seconds.",
            },
        });
    }

    /// <summary>Which server the failure says could not be reached, or null when it is some other failure.</summary>
    public static string? Unreachable(Exception exception)
    {
        for (Exception? error = exception; error is not null; error = error.InnerException)
        {
            switch (error)
            {
                case PostgresException postgres when UnavailableStates.Contains(postgres.SqlState):
                case NpgsqlException and not PostgresException:
                    return "The database";
                case RedisConnectionException or RedisTimeoutException:
                    return "The job queue (Redis)";
                // The API's only outgoing HTTP is to storage.
                case Amazon.Runtime.AmazonServiceException { InnerException: HttpRequestException or SocketException or IOException }:
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }:
                    return "Storage";
            }
        }

        return null;
    }
}
