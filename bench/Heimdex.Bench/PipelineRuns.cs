using System.Net.Http.Json;
using System.Text.Json;

namespace Heimdex.Bench;

/// <summary>A video through the whole pipeline, as a person sees it: uploaded, then polled until it is indexed or failed.</summary>
public static class PipelineRuns
{
    /// <summary>When the upload was answered, and the video as the API last described it.</summary>
    public static async Task<(DateTimeOffset Answered, JsonElement Video)> UploadAndWaitAsync(HttpClient client, MultipartFormDataContent form, TimeSpan poll)
    {
        using var uploaded = await client.PostAsync("/api/videos", form);
        var answered = DateTimeOffset.UtcNow;
        var id = (await uploaded.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        JsonElement video;
        do
        {
            await Task.Delay(poll);
            video = await client.GetFromJsonAsync<JsonElement>($"/api/videos/{id}");
        }
        while (video.GetProperty("state").GetString() is not ("indexed" or "failed"));

        return (answered, video);
    }
}
