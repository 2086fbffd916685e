using Heimdex.Shared.Telemetry;

namespace Heimdex.Tests.Pipeline;

public sealed class ErrorTextTests
{
    [Theory]
    [InlineData(
        "ffmpeg exited with code 1: http://127.0.0.1:9000/storage/videos/0193/original?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=heimdex%2F20261202&X-Amz-Signature=abc123: Server returned 5XX",
        "ffmpeg exited with code 1: http://127.0.0.1:9000/storage/videos/0193/original?…: Server returned 5XX")]
    [InlineData("Failed to connect: Host=127.0.0.1;Password=hunter2;Database=heimdex", "Failed to connect: Host=127.0.0.1;Password=…;Database=heimdex")]
    [InlineData("redis://127.0.0.1:6379,password=s3cret,abortConnect=False", "redis://127.0.0.1:6379,password=…,abortConnect=False")]
    [InlineData("The file has no video stream (it is audio only).", "The file has no video stream (it is audio only).")]
    public void Presigned_urls_and_passwords_never_reach_the_user(string message, string shown) =>
        Assert.Equal(shown, ErrorText.Of(new InvalidOperationException(message)));
}
