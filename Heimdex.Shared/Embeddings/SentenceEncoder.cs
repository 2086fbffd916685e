using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using Heimdex.Conventions;
using Heimdex.Shared.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;

namespace Heimdex.Shared.Embeddings;

/// <summary>
/// all-MiniLM-L6-v2 as sentence-transformers runs it — BERT (6 layers, 384 wide), mean pooling over the tokens, L2
/// normalisation — with ONNX Runtime running the model's ONNX graph (<see cref="MiniLmGraph"/>; on CUDA when
/// configured) and the WordPiece tokenizer of the pinned model package. Loaded once per process; thread-safe.
/// </summary>
public sealed class SentenceEncoder : IDisposable
{
    /// <summary>
    /// The embedding space scene and query vectors share. A scene's vector of everything shown and said has this
    /// space; when it both shows and says something, the shown text and the spoken words have a vector each too, in
    /// this space followed by <c>/shown</c> and <c>/said</c>: a slide's title is not drowned by unrelated speech.
    /// All of them start with <see cref="Space"/>.
    /// </summary>
    public const string Space = "text:all-MiniLM-L6-v2";

    public const string ShownSpace = Space + "/shown";

    public const string SaidSpace = Space + "/said";

    /// <summary>
    /// Every space of a scene's text vectors, to match them by: an index over (space, video) finds a video's rows for
    /// a list of spaces, not for a prefix, which it would read in full.
    /// </summary>
    public static readonly string[] Spaces = [Space, ShownSpace, SaidSpace];

    public const int Dimensions = 384;

    /// <summary>sentence-transformers' max_seq_length for this model; longer text is cut.</summary>
    public const int MaxTokens = 256;

    private readonly BertTokenizer _tokenizer;
    private readonly OnnxModel _model;

    private SentenceEncoder(BertTokenizer tokenizer, OnnxModel model) => (_tokenizer, _model) = (tokenizer, model);

    /// <summary>The execution provider the graph runs on.</summary>
    public string Provider => _model.Provider;

    public static SentenceEncoder Load(ModelOptions options) =>
        new(LoadTokenizer(options), OnnxSessions.Create(MiniLmGraph.Read(), MiniLmGraph.Name, options));

    /// <summary>The model package's WordPiece vocabulary (its tokenizer.json), lower-casing and stripping accents as BERT was trained.</summary>
    public static BertTokenizer LoadTokenizer(ModelOptions options)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(options.RequireFile(ModelPackage.MiniLm, "package/model/tokenizer.json")));
        var vocabulary = json.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject()
            .OrderBy(token => token.Value.GetInt32())
            .Select(token => token.Name);
        using var vocab = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', vocabulary) + "\n"));
        return BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });
    }

    /// <summary>The token ids of <paramref name="text"/> with [CLS] and [SEP], cut to <see cref="MaxTokens"/>.</summary>
    public static IReadOnlyList<int> TokenIds(BertTokenizer tokenizer, string text)
    {
        var ids = tokenizer.EncodeToIds(text, addSpecialTokens: true, considerPreTokenization: true, considerNormalization: true);
        return ids.Count > MaxTokens ? [.. ids.Take(MaxTokens - 1), tokenizer.SeparatorTokenId] : ids;
    }

    /// <summary>The unit-length mean of the tokens' hidden states (tokens × <see cref="Dimensions"/>, row by row).</summary>
    public static float[] MeanPooled(ReadOnlySpan<float> hidden, int tokens)
    {
        var pooled = new float[Dimensions];
        for (var t = 0; t < tokens; t++)
        {
            TensorPrimitives.Add(pooled, hidden.Slice(t * Dimensions, Dimensions), pooled);
        }

        var norm = TensorPrimitives.Norm(pooled);
        TensorPrimitives.Divide(pooled, norm > 0 ? norm : 1, pooled);
        return pooled;
    }

    /// <summary>The unit-length embedding of <paramref name="text"/>; cosine similarity of two is their dot product.</summary>
    public float[] Embed(string text)
    {
        var ids = TokenIds(_tokenizer, text);
        int[] shape = [1, ids.Count];
        using var outputs = _model.Session.Run(
        [
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids.Select(id => (long)id).ToArray(), shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, ids.Count).ToArray(), shape)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Count], shape)),
        ]);
        return MeanPooled(((DenseTensor<float>)outputs[0].AsTensor<float>()).Buffer.Span, ids.Count);
    }

    public void Dispose() => _model.Dispose();
}
