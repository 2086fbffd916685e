using System.Numerics.Tensors;
using Heimdex.Conventions;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;
using Microsoft.ML.Tokenizers;

namespace Heimdex.Bench;

/// <summary>
/// all-MiniLM-L6-v2 computed by Heimdex's own code from the published fp16 weights (System.Numerics.Tensors): what the
/// sentence encoder was before ONNX Runtime ran the model's ONNX graph. <c>bench -- embed</c> measures the two against
/// each other; it reproduces sentence-transformers' values too.
/// </summary>
public sealed class HeimdexBert
{
    private const int Dimensions = SentenceEncoder.Dimensions;
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

    private HeimdexBert(BertTokenizer tokenizer, SafeTensors weights)
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

    public static HeimdexBert Load(ModelOptions options) =>
        new(SentenceEncoder.LoadTokenizer(options), SafeTensors.Load(options.RequireFile(ModelPackage.MiniLm, "package/model/model.fp16.safetensors")));

    /// <summary>The unit-length embedding of <paramref name="text"/>; cosine similarity of two is their dot product.</summary>
    public float[] Embed(string text)
    {
        var ids = SentenceEncoder.TokenIds(_tokenizer, text);
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

        return SentenceEncoder.MeanPooled(x, tokens);
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
