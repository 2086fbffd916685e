using System.Text.Json;
using System.Text.Json.Nodes;
using Heimdex.Search;
using Heimdex.Search.Indexes;
using Heimdex.Api.People;
using Heimdex.Api.Uploads;
using Heimdex.Api.Users;
using Heimdex.Api.Videos;
using Heimdex.Api.Web;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;

namespace Heimdex.Api;

/// <summary>Example requests and responses for the OpenAPI document, by endpoint name.</summary>
public sealed class ApiExamples : IOpenApiOperationTransformer
{
    private static readonly Guid VideoId = Guid.Parse("01a20974-8cf3-7d6d-b6ed-2f4157c34359");
    private static readonly Guid UserId = Guid.Parse("01a20960-1c2b-7c41-9a0e-5b8f2d3e4a10");

    private static readonly VideoResponse Video = new(
        VideoId, "Leaf, deer and a tyre", "Test footage", "testvideo.mp4", 2_433_000, "video/mp4",
        "26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47", 24.02, 1280, 720, 29.97, "h264", null, "indexed", null,
        DateTimeOffset.Parse("2026-11-23T17:25:54Z", System.Globalization.CultureInfo.InvariantCulture),
        [new StageResponse("validate", "succeeded", 1, 100, null, null, null), new StageResponse("extract_audio", "skipped", 1, 100, null, null, "the video has no audio stream")],
        $"/api/videos/{VideoId}/stream", $"/api/videos/{VideoId}/scenes/0/thumbnail");

    private static readonly KeyResponse Key = new(Guid.Parse("01a20960-1c2c-7000-8000-000000000001"), UserId, "laptop", "9e49371eb5e4", "hx_9e49371eb5e4_6dc4…0e");

    private static readonly PersonResponse Person = new(Guid.Parse("01a20a10-4c00-7000-8000-000000000001"), "Ada Lovelace", true,
        DateTimeOffset.Parse("2026-11-23T18:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        [
            new PhotoResponse(Guid.Parse("01a20a10-4c00-7000-8000-000000000002"), "ready", null, 1,
                DateTimeOffset.Parse("2026-11-23T18:01:00Z", System.Globalization.CultureInfo.InvariantCulture),
                DateTimeOffset.Parse("2026-11-23T18:01:02Z", System.Globalization.CultureInfo.InvariantCulture)),
            new PhotoResponse(Guid.Parse("01a20a10-4c00-7000-8000-000000000003"), "failed", "no face was found in the photo", 1,
                DateTimeOffset.Parse("2026-11-23T18:02:00Z", System.Globalization.CultureInfo.InvariantCulture),
                DateTimeOffset.Parse("2026-11-23T18:02:01Z", System.Globalization.CultureInfo.InvariantCulture)),
        ]);

    private static readonly Dictionary<string, (object? Request, object? Response)> Examples = new()
    {
        ["SearchScenes"] = (null, new SearchResponse("ask not what your country", [new SearchHit(VideoId, "Inaugural address",
            Guid.Parse("01a20974-9000-7000-8000-000000000001"), 1, 5.5, 11.0,
            new SearchScore(0.0489, 0.0164, 0.0161, 0.0164) { MatchedWords = ["ask", "country"], CorrectedWords = [], Similarity = 0.6412 },
            "and so my fellow americans ask not what your <mark>country</mark> can do for you", $"/api/videos/{VideoId}/scenes/1/thumbnail",
            $"/api/videos/{VideoId}/stream#t=7.2,11", 7.2, new SpokenMatch(7.2, 10.9, "ask not what your country can do for you"))], "MjA6YjJmNDQ4N2U1ZDAzNjE2Yg")),
        ["SearchScenesByImage"] = (null, new ImageSearchResponse("portrait.jpg", 1, [new SearchHit(VideoId, "Lecture 3: optimisation",
            Guid.Parse("01a20974-9000-7000-8000-000000000001"), 2, 12.4, 19.0, new SearchScore(0.0328, null, null, null, 0.91, 0.62),
            "Lecture 3: optimisation", $"/api/videos/{VideoId}/scenes/2/thumbnail", $"/api/videos/{VideoId}/stream#t=12.4,19", 12.4, null)])),
        ["SearchIndexStatus"] = (null, new SearchIndexStatus(true, 220_000, 220_000, 0, new VectorIndexStatus(61_000, 3, 1, 0, 1),
            new VectorIndexStatus(150_000, 3, 1, 0, 2), new VectorIndexStatus(9_000, 3, 0, 0, 0))),
        ["CreatePerson"] = (new PersonRequest("Ada Lovelace"), Person with { Searchable = false, Photos = [] }),
        ["ListPeople"] = (null, new[] { Person }),
        ["GetPerson"] = (null, Person),
        ["RenamePerson"] = (new PersonRequest("Augusta Ada King"), Person with { Name = "Augusta Ada King" }),
        ["AddPersonPhoto"] = (null, Person.Photos[0] with { State = "uploaded", Attempts = 0 }),
        ["PersonAppearances"] = (null, new[]
        {
            new VideoAppearances(VideoId, "Lecture 3: optimisation", 2712.5, [new AppearanceRange(12.4, 31.9, [2, 3, 4], $"/api/videos/{VideoId}/scenes/2/thumbnail")]),
        }),
        ["UploadVideo"] = (null, Video),
        ["SignIn"] = (new SignInRequest("hx_9e49371eb5e4_6dc4…0e"), new SessionResponse(true, UserId, "alice", false)),
        ["GetSession"] = (null, new SessionResponse(true, UserId, "alice", false)),
        ["GetVideo"] = (null, Video),
        ["ListVideos"] = (null, new PageResponse<VideoResponse>([Video], 1, 50, 1)),
        ["ReprocessVideo"] = (null, Video with { State = "processing" }),
        ["ListScenes"] = (null, new[]
        {
            new SceneResponse(Guid.Parse("01a20974-9000-7000-8000-000000000001"), 1, 1.001, 6.006, 30, 179,
                $"/api/videos/{VideoId}/scenes/1/thumbnail", $"/api/videos/{VideoId}/scenes/1/keyframe",
                [new OnScreenTextResponse("Stochastic gradient descent", 0.93, 1.001, 12.012)],
                [new FaceResponse(Guid.Parse("01a20974-9000-7000-8000-000000000002"), 412, 118, 160, 214, 0.94f, 0.91f, null)]),
        }),
        ["GetTranscript"] = (null, new TranscriptResponse(VideoId,
        [
            new TranscriptSegmentResponse(0, 3.2, 6.9, "ask not what your country can do for you", 0.71),
        ])),
        ["GetUpload"] = (null, new TusUploadsApi.UploadResponse(VideoId, 2_433_000, 2_433_000, "completed",
            DateTimeOffset.Parse("2026-11-24T17:25:54Z", System.Globalization.CultureInfo.InvariantCulture), VideoId, $"/api/videos/{VideoId}")),
        ["CreateUser"] = (new CreateUserRequest("alice"), new CreatedUserResponse(
            new UserResponse(UserId, "alice", false, DateTimeOffset.Parse("2026-11-23T17:00:00Z", System.Globalization.CultureInfo.InvariantCulture)), Key)),
        ["CreateKey"] = (new CreateKeyRequest(UserId, "laptop"), Key),
        ["ListKeys"] = (null, new List<KeySummary>
        {
            new(Guid.Parse("01a20960-1c2c-7000-8000-000000000000"), UserId, "first key", "3f0a1c9d22b7",
                DateTimeOffset.Parse("2026-11-23T17:00:00Z", System.Globalization.CultureInfo.InvariantCulture), null),
            new(Key.Id, UserId, Key.Name, Key.Prefix, DateTimeOffset.Parse("2026-11-23T17:05:00Z", System.Globalization.CultureInfo.InvariantCulture),
                DateTimeOffset.Parse("2026-12-01T09:30:00Z", System.Globalization.CultureInfo.InvariantCulture)),
        }),
    };

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var name = context.Description.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
        if (name is null || !Examples.TryGetValue(name, out var example))
        {
            return Task.CompletedTask;
        }

        if (example.Request is not null && operation.RequestBody?.Content?.TryGetValue("application/json", out var request) == true)
        {
            request.Example = ToJson(example.Request);
        }

        foreach (var response in operation.Responses?.Where(r => r.Key.StartsWith('2')).Select(r => r.Value) ?? [])
        {
            if (example.Response is not null && response.Content?.TryGetValue("application/json", out var media) == true)
            {
                media.Example = ToJson(example.Response);
            }
        }

        return Task.CompletedTask;
    }

    private static JsonNode? ToJson(object value) => JsonSerializer.SerializeToNode(value, value.GetType(), JsonSerializerOptions.Web);
}
