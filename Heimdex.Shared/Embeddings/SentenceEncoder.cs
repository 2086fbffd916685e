using Heimdex.Conventions;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using Heimdex.Shared.Models;
using Microsoft.ML.Tokenizers;

namespace Heimdex.Shared.Embeddings;

/// <summary>
/// all-MiniLM-L6-v2 as sentence-transformers runs it — BERT (6 layers, 384 wide, 12 heads), mean pooling over the
/// tokens, L2 normalisation — computed by our own code from the published fp16 weights, because no ONNX export of
/// the model exists here. Loaded once per process; thread-safe.
/// </summary>
public sealed class SentenceEncoder
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

    public const int Dimensions = 384;

    /// <summary>sentence-transformers' max_seq_length for this model; longer text is cut.</summary>
    public const int MaxTokens = 256;

    private const int Layers = 6;
    private const int Heads = 12;
    private const int HeadSize = Dimensions / Heads;
    private const int Intermediate = 1536;
    private const int VocabularySize = 30522;
    private const int Positions = 512;
    private const float LayerNormEpsilon = 1e-12f;

    private readonly BertTokenizer _tokenizer;
    private readonly float[] _wordEmbeddings;
    private readonly float[] _positionAndTypeEmbeddings;
    private readonly Norm _embeddingNorm;
    private readonly Layer[] _layers;

    private SentenceEncoder(BertTokenizer tokenizer, SafeTensors weights)
    {
        _tokenizer = tokenizer;
        _wordEmbeddings = weights.Floats("embeddings.word_embeddings.weight", VocabularySize, Dimensions);
        // Every sentence is one segment (token type 0), so its embedding folds into the positions'.
        _positionAndTypeEmbeddings = weights.Floats("embeddings.position_embeddings.weight", Positions, Dimensions);
        var tokenType = weights.Floats("embeddings.token_type_embeddings.weight", 2, Dimensions).AsSpan(0, Dimensions);
        for (var position = 0; position < Positions; position++)
        {
            TensorPrimitives.Add(_positionAndTypeEmbeddings.AsSpan(position * Dimensions, Dimensions), tokenType,
                _positionAndTypeEmbeddings.AsSpan(position * Dimensions, Dimensions));
        }

        _embeddingNorm = Norm.Load(weights, "embeddings.LayerNorm");
        _layers = [.. Enumerable.Range(0, Layers).Select(i => Layer.Load(weights, $"encoder.layer.{i}"))];
    }

    public static SentenceEncoder Load(ModelOptions options)
    {
        var tokenizerPath = options.RequireFile(ModelPackage.MiniLm, "package/model/tokenizer.json");
        var weightsPath = options.RequireFile(ModelPackage.MiniLm, "package/model/model.fp16.safetensors");
        return new SentenceEncoder(LoadTokenizer(tokenizerPath), SafeTensors.Load(weightsPath));
    }

    /// <summary>The tokenizer.json's WordPiece vocabulary, written out as the vocab.txt BertTokenizer reads (one token per line, by id).</summary>
    private static BertTokenizer LoadTokenizer(string tokenizerJsonPath)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(tokenizerJsonPath));
        var vocabulary = json.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject()
            .OrderBy(token => token.Value.GetInt32())
            .Select(token => token.Name);
        using var vocab = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', vocabulary) + "\n"));
        return BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });
    }

    /// <summary>The unit-length embedding of <paramref name="text"/>; cosine similarity of two is their dot product.</summary>
    public float[] Embed(string text)
    {
        var ids = _tokenizer.EncodeToIds(text, addSpecialTokens: true, considerPreTokenization: true, considerNormalization: true);
        if (ids.Count > MaxTokens)
        {
            ids = [.. ids.Take(MaxTokens - 1), _tokenizer.SeparatorTokenId];
        }

        var tokens = ids.Count;
        var x = new float[tokens * Dimensions];
        for (var t = 0; t < tokens; t++)
        {
            TensorPrimitives.Add(_wordEmbeddings.AsSpan(ids[t] * Dimensions, Dimensions),
                _positionAndTypeEmbeddings.AsSpan(t * Dimensions, Dimensions), x.AsSpan(t * Dimensions, Dimensions));
        }

        _embeddingNorm.Apply(x, tokens);
        foreach (var layer in _layers)
        {
            layer.Apply(x, tokens);
        }

        var pooled = new float[Dimensions];
        for (var t = 0; t < tokens; t++)
        {
            TensorPrimitives.Add(pooled, x.AsSpan(t * Dimensions, Dimensions), pooled);
        }

        var norm = TensorPrimitives.Norm(pooled);
        TensorPrimitives.Divide(pooled, norm > 0 ? norm : 1, pooled);
        return pooled;
    }

    private sealed record Norm(float[] Weight, float[] Bias)
    {
        public static Norm Load(SafeTensors weights, string prefix) =>
            new(weights.Floats($"{prefix}.weight", Dimensions), weights.Floats($"{prefix}.bias", Dimensions));

        public void Apply(float[] x, int tokens)
        {
            for (var t = 0; t < tokens; t++)
            {
                var row = x.AsSpan(t * Dimensions, Dimensions);
                var mean = TensorPrimitives.Sum(row) / Dimensions;
                TensorPrimitives.Subtract(row, mean, row);
                var deviation = MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / Dimensions + LayerNormEpsilon);
                TensorPrimitives.Divide(row, deviation, row);
                TensorPrimitives.MultiplyAdd(row, Weight, Bias, row);
            }
        }
    }

    /// <summary>y = x·Wᵀ + b with PyTorch's [out, in] weight layout; rows of W are shared across tokens while they are in cache.</summary>
    private sealed record Linear(float[] Weight, float[] Bias, int In, int Out)
    {
        private const int RowsPerTask = 48;

        public static Linear Load(SafeTensors weights, string prefix, int inputs, int outputs) =>
            new(weights.Floats($"{prefix}.weight", outputs, inputs), weights.Floats($"{prefix}.bias", outputs), inputs, outputs);

        public float[] Apply(float[] x, int tokens)
        {
            var y = new float[tokens * Out];
            var blocks = (Out + RowsPerTask - 1) / RowsPerTask;
            if ((long)tokens * In * Out < 300_000)
            {
                for (var block = 0; block < blocks; block++)
                {
                    Rows(x, tokens, y, block);
                }
            }
            else
            {
                Parallel.For(0, blocks, block => Rows(x, tokens, y, block));
            }

            return y;
        }

        private void Rows(float[] x, int tokens, float[] y, int block)
        {
            for (var o = block * RowsPerTask; o < Math.Min(Out, (block + 1) * RowsPerTask); o++)
            {
                var weight = Weight.AsSpan(o * In, In);
                for (var t = 0; t < tokens; t++)
                {
                    y[t * Out + o] = TensorPrimitives.Dot(weight, x.AsSpan(t * In, In)) + Bias[o];
                }
            }
        }
    }

    private sealed record Layer(Linear Query, Linear Key, Linear Value, Linear AttentionOutput, Norm AttentionNorm,
        Linear Up, Linear Down, Norm OutputNorm)
    {
        public static Layer Load(SafeTensors weights, string prefix) => new(
            Linear.Load(weights, $"{prefix}.attention.self.query", Dimensions, Dimensions),
            Linear.Load(weights, $"{prefix}.attention.self.key", Dimensions, Dimensions),
            Linear.Load(weights, $"{prefix}.attention.self.value", Dimensions, Dimensions),
            Linear.Load(weights, $"{prefix}.attention.output.dense", Dimensions, Dimensions),
            Norm.Load(weights, $"{prefix}.attention.output.LayerNorm"),
            Linear.Load(weights, $"{prefix}.intermediate.dense", Dimensions, Intermediate),
            Linear.Load(weights, $"{prefix}.output.dense", Intermediate, Dimensions),
            Norm.Load(weights, $"{prefix}.output.LayerNorm"));

        public void Apply(float[] x, int tokens)
        {
            var attention = AttentionOutput.Apply(SelfAttention(x, tokens), tokens);
            TensorPrimitives.Add(x, attention, x);
            AttentionNorm.Apply(x, tokens);

            var hidden = Up.Apply(x, tokens);
            Gelu(hidden);
            TensorPrimitives.Add(x, Down.Apply(hidden, tokens), x);
            OutputNorm.Apply(x, tokens);
        }

        private float[] SelfAttention(float[] x, int tokens)
        {
            var (q, k, v) = (Query.Apply(x, tokens), Key.Apply(x, tokens), Value.Apply(x, tokens));
            var context = new float[tokens * Dimensions];
            var scores = new float[tokens];
            var scale = 1 / MathF.Sqrt(HeadSize);
            for (var head = 0; head < Heads; head++)
            {
                var offset = head * HeadSize;
                for (var i = 0; i < tokens; i++)
                {
                    var query = q.AsSpan(i * Dimensions + offset, HeadSize);
                    for (var j = 0; j < tokens; j++)
                    {
                        scores[j] = TensorPrimitives.Dot(query, k.AsSpan(j * Dimensions + offset, HeadSize)) * scale;
                    }

                    TensorPrimitives.SoftMax(scores, scores);
                    var output = context.AsSpan(i * Dimensions + offset, HeadSize);
                    for (var j = 0; j < tokens; j++)
                    {
                        TensorPrimitives.MultiplyAdd(v.AsSpan(j * Dimensions + offset, HeadSize), scores[j], output, output);
                    }
                }
            }

            return context;
        }

        /// <summary>BERT's exact GELU, x·Φ(x), not the tanh approximation: the published vectors are reproduced to the third decimal.</summary>
        private static void Gelu(float[] x)
        {
            for (var i = 0; i < x.Length; i++)
            {
                x[i] = 0.5f * x[i] * (1 + Erf(x[i] / MathF.Sqrt(2)));
            }
        }

        /// <summary>Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7); .NET has no erf.</summary>
        private static float Erf(float value)
        {
            var x = Math.Abs((double)value);
            var t = 1 / (1 + 0.3275911 * x);
            var y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
            return (float)(value < 0 ? -y : y);
        }
    }
}
