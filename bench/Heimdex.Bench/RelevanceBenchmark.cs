using System.Globalization;
using Heimdex.Search;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;

namespace Heimdex.Bench;

/// <summary>
/// Calibrates the semantic floor (<see cref="SearchOptions.MinSemanticSimilarity"/>): generated libraries of scenes
/// (transcript-like sentences on 12 of 24 topics) and queries that share no word with the scenes — related ones in the
/// words of a topic the library holds, unrelated ones about a topic it does not. A (query, scene) pair is returned when
/// the cosine of their MiniLM embeddings reaches the floor; precision and recall count the pairs of the same topic.
/// The floor is chosen on the tuning seeds (the lowest at which 90 % of unrelated queries find nothing) and then
/// measured on held-out seeds.
/// </summary>
public sealed class RelevanceBenchmark
{
    private sealed record Topic(string[] SceneWords, string[] QueryWords);

    private static readonly Topic[] Topics =
    [
        new(["telescope", "galaxy", "planets", "orbit", "nebula", "star cluster", "comet", "observatory"], ["night sky", "stargazing", "cosmos", "solar system", "moon", "stars"]),
        new(["recipe", "oven", "flour", "bake", "dough", "butter", "sugar", "pastry"], ["kitchen", "chef", "dessert", "cake", "meal", "ingredients"]),
        new(["goalkeeper", "penalty kick", "striker", "referee", "league table", "stadium", "midfield", "offside"], ["soccer match", "team sport", "world cup", "players", "scoring a goal", "fans"]),
        new(["neural network", "gradient descent", "training data", "loss function", "backpropagation", "model weights", "overfitting", "classifier"], ["artificial intelligence", "deep learning", "predictions", "algorithm", "data science", "optimizer"]),
        new(["tomatoes", "compost", "seedlings", "pruning", "watering can", "soil", "flower beds", "greenhouse"], ["garden", "plants", "growing vegetables", "harvest", "weeds", "fertilizer"]),
        new(["interest rates", "mortgage", "stock market", "inflation", "savings account", "bonds", "dividends", "portfolio"], ["investing", "money", "banking", "economy", "retirement fund", "loans"]),
        new(["cardiology", "blood pressure", "cholesterol", "arteries", "heart attack", "stethoscope", "pulse", "cardiac surgery"], ["health", "doctor", "hospital", "patient care", "cardiovascular disease", "heartbeat"]),
        new(["coral reef", "whales", "tides", "marine biology", "plankton", "deep sea", "dolphins", "kelp forest"], ["sea life", "underwater", "fish", "beach", "ocean conservation", "waves"]),
        new(["roman empire", "legions", "aqueducts", "senate", "julius caesar", "gladiators", "colosseum", "latin"], ["ancient rome", "history", "emperors", "antiquity", "roman roads", "republic"]),
        new(["guitar chords", "melody", "orchestra", "symphony", "piano keys", "rhythm", "composer", "concert"], ["songs", "musicians", "playing an instrument", "band", "harmony", "classical music"]),
        new(["compiler", "source code", "debugging", "variables", "functions", "syntax errors", "repository", "unit tests"], ["software development", "coding", "programmer", "bugs", "programming language", "computer program"]),
        new(["greenhouse gases", "carbon emissions", "global warming", "sea level rise", "renewable energy", "solar panels", "drought", "heatwave"], ["climate change", "environment", "fossil fuels", "pollution", "wind turbines", "melting ice"]),
        new(["engine", "transmission", "tires", "brakes", "horsepower", "fuel injection", "steering wheel", "mechanic"], ["automobile", "vehicle", "driving", "car repair", "motor", "road trip"]),
        new(["camera lens", "aperture", "shutter speed", "exposure", "tripod", "portrait", "focal length", "lighting"], ["photos", "photographer", "pictures", "taking a picture", "zoom", "studio"]),
        new(["checkmate", "bishop", "knight", "opening gambit", "endgame", "pawn structure", "grandmaster", "castling"], ["board game", "strategy game", "chess tournament", "moves", "king and queen", "playing chess"]),
        new(["lava", "magma", "eruption", "tectonic plates", "earthquake", "crater", "basalt", "seismograph"], ["volcano", "geology", "rocks", "natural disaster", "mountains", "earth's crust"]),
        new(["puppy", "leash", "dog training", "veterinarian", "fetch", "barking", "kennel", "breeds"], ["pets", "dogs", "animal care", "pet owner", "obedience", "walking the dog"]),
        new(["ballot", "voters", "candidates", "campaign", "polling station", "parliament", "democracy", "legislation"], ["elections", "politics", "government", "vote", "president", "political party"]),
        new(["espresso", "coffee beans", "roasting", "barista", "latte", "grinder", "caffeine", "brewing"], ["coffee shop", "cup of coffee", "cafe", "morning drink", "cappuccino", "arabica"]),
        new(["marathon", "jogging", "sprint", "stretching", "training plan", "running shoes", "endurance", "cardio"], ["exercise", "fitness", "workout", "athletes", "race", "physical activity"]),
        new(["oil paint", "canvas", "brush strokes", "watercolor", "palette", "portrait painting", "gallery", "impressionism"], ["art", "painter", "artwork", "museum", "drawing", "artist"]),
        new(["rain", "thunderstorm", "forecast", "humidity", "snowfall", "temperature drop", "clouds", "wind speed"], ["weather report", "meteorology", "storm", "sunny day", "rainfall", "cold front"]),
        new(["bicycle", "pedals", "gears", "cycling helmet", "bike lane", "chain", "handlebars", "mountain bike"], ["cycling", "riding a bike", "cyclist", "bike ride", "tour de france", "commuting"]),
        new(["rocket launch", "booster", "launch pad", "orbit insertion", "spacecraft", "mission control", "payload", "countdown"], ["spaceflight", "nasa", "space shuttle", "satellite", "astronauts", "liftoff"]),
    ];

    private static readonly string[] SceneTemplates =
    [
        "In this part we look at the {0} and the {1}. The {2} matters because of the {3}.",
        "So here you can see the {0}, the {1} and the {2}; later on we come back to the {3}.",
        "Let me explain the {0}. When the {1} changes, the {2} and the {3} change too.",
        "{0}. {1}. {2} and {3}.",
    ];

    private static readonly string[] QueryTemplates = ["{0}", "{0} and {1}", "videos about {0}", "how does {0} work", "explain {0} and {1}"];

    public static readonly int[] TuningSeeds = [1, 2, 3, 4, 5];
    public static readonly int[] HeldOutSeeds = [.. Enumerable.Range(101, 10)];

    public Task RunAsync()
    {
        var encoder = SentenceEncoder.Load(new ModelOptions());
        var tuning = TuningSeeds.Select(seed => Library(seed, encoder)).ToList();
        Console.WriteLine($"{"floor",6} {"P",6} {"R",6} {"F1",6} {"related found",14} {"unrelated empty",16}   (tuning seeds {string.Join(",", TuningSeeds)})");
        // The floor is the lowest at which nine in ten queries about a topic the library lacks find nothing: below it
        // people see unrelated scenes, above it related ones are lost.
        double? chosen = null;
        for (var floor = 0.1; floor <= 0.601; floor += 0.025)
        {
            var measured = Measure(tuning, floor);
            Console.WriteLine(Row(floor, measured));
            if (chosen is null && measured.UnrelatedEmpty >= 0.9)
            {
                chosen = Math.Round(floor, 3);
            }
        }

        var heldOut = HeldOutSeeds.Select(seed => Library(seed, encoder)).ToList();
        Console.WriteLine();
        Console.WriteLine($"floor where 90 % of unrelated queries find nothing on the tuning seeds: {chosen:0.000}; configured default {SearchOptions.DefaultMinSemanticSimilarity:0.000}");
        Console.WriteLine($"held-out seeds {HeldOutSeeds[0]}-{HeldOutSeeds[^1]}:");
        Console.WriteLine(Row(chosen ?? 1, Measure(heldOut, chosen ?? 1)));
        Console.WriteLine(Row(SearchOptions.DefaultMinSemanticSimilarity, Measure(heldOut, SearchOptions.DefaultMinSemanticSimilarity)));
        return Task.CompletedTask;
    }

    private static string Row(double floor, (double Precision, double Recall, double F1, double RelatedFound, double UnrelatedEmpty) m) =>
        string.Create(CultureInfo.InvariantCulture, $"{floor,6:0.000} {m.Precision,6:0.00} {m.Recall,6:0.00} {m.F1,6:0.00} {m.RelatedFound,14:P0} {m.UnrelatedEmpty,16:P0}");

    /// <summary>Each query's cosine to every scene, and whether they share a topic; unrelated queries share none.</summary>
    private static List<(bool Related, List<(double Cosine, bool SameTopic)> Scenes)> Library(int seed, SentenceEncoder encoder)
    {
        var random = new Random(seed);
        var order = Enumerable.Range(0, Topics.Length).OrderBy(_ => random.Next()).ToList();
        var (held, absent) = (order.Take(Topics.Length / 2).ToList(), order.Skip(Topics.Length / 2).ToList());
        var scenes = held.SelectMany(topic => Enumerable.Range(0, 3).Select(_ => (Topic: topic, Vector: encoder.Embed(Fill(random, SceneTemplates, Topics[topic].SceneWords))))).ToList();
        return
        [
            .. held.Concat(absent).SelectMany(topic => Enumerable.Range(0, 2).Select(_ =>
            {
                var query = encoder.Embed(Fill(random, QueryTemplates, Topics[topic].QueryWords));
                return (Related: held.Contains(topic), Scenes: scenes.Select(scene => (Cosine(query, scene.Vector), scene.Topic == topic)).ToList());
            })),
        ];
    }

    private static (double Precision, double Recall, double F1, double RelatedFound, double UnrelatedEmpty) Measure(
        List<List<(bool Related, List<(double Cosine, bool SameTopic)> Scenes)>> libraries, double floor)
    {
        var queries = libraries.SelectMany(library => library).ToList();
        var pairs = queries.SelectMany(query => query.Scenes).ToList();
        var returned = pairs.Count(pair => pair.Cosine >= floor);
        var right = pairs.Count(pair => pair.Cosine >= floor && pair.SameTopic);
        var precision = returned == 0 ? 1 : (double)right / returned;
        var recall = (double)right / pairs.Count(pair => pair.SameTopic);
        var related = queries.Where(query => query.Related).ToList();
        var unrelated = queries.Where(query => !query.Related).ToList();
        return (precision, recall, precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall),
            (double)related.Count(query => query.Scenes.Any(scene => scene.SameTopic && scene.Cosine >= floor)) / related.Count,
            (double)unrelated.Count(query => query.Scenes.All(scene => scene.Cosine < floor)) / unrelated.Count);
    }

    private static string Fill(Random random, string[] templates, string[] words)
    {
        var picked = words.OrderBy(_ => random.Next()).ToArray();
        return string.Format(CultureInfo.InvariantCulture, templates[random.Next(templates.Length)], [.. picked]);
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, normA = 0, normB = 0;
        for (var i = 0; i < a.Length; i++)
        {
            (dot, normA, normB) = (dot + a[i] * b[i], normA + a[i] * a[i], normB + b[i] * b[i]);
        }

        return dot / Math.Sqrt(normA * normB);
    }
}
