using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon.S3.Model;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Videos;
using Heimdex.Tests.Pipeline;
using Heimdex.Tests.Uploads;
using Heimdex.Worker.Text;
using static Heimdex.Tests.Pipeline.MediaFactory;

namespace Heimdex.Tests.Lectures;

/// <summary>A generated, narrated lecture through the real graph, and the subtitles and notes Heimdex makes of it.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed partial class LectureOutputsTests(HeimdexGraph graph)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>Three slides on one white background (only the text changes), the first shown again at the end.</summary>
    private static readonly LectureSlide RomanRoads = new("Roman Roads", "Stone roads across the empire",
        "The Romans built long straight roads of stone across their whole empire.");

    private static readonly LectureSlide[] Deck =
    [
        RomanRoads,
        new("Photosynthesis", "Sunlight and water become sugar", "Green plants turn sunlight and water and carbon dioxide into sugar and oxygen."),
        new("Plate Tectonics", "Continents drift on the mantle", "The continents move very slowly over the hot mantle under them."),
        RomanRoads with { Narration = "Back to the roads. They carried soldiers and trade for many centuries." },
    ];

    private sealed record Lecture(Guid Id, IReadOnlyList<ShownSlide> Shown, IReadOnlyList<TranscriptSegment> Transcript);

    private static Task<Lecture>? _lecture;
    private static readonly Lock LectureLock = new();

    /// <summary>The lecture, indexed once for the tests of this class.</summary>
    private Task<Lecture> IndexedLectureAsync()
    {
        lock (LectureLock)
        {
            return _lecture ??= IndexAsync();
        }

        async Task<Lecture> IndexAsync()
        {
            using var alice = graph.Client(graph.AliceKey);
            var (path, shown) = await LectureAsync(Deck);
            var id = await VideoUploadTests.UploadAsync(alice, await File.ReadAllBytesAsync(path, CancellationToken.None), "lecture.mp4", "Three topics");
            var video = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() is "indexed" or "failed", "indexed", seconds: 300);
            Assert.Equal("indexed", video.GetProperty("state").GetString());
            var transcript = await alice.GetFromJsonAsync<JsonElement>($"/api/videos/{id}/transcript", CancellationToken.None);
            var segments = transcript.GetProperty("segments").EnumerateArray().Select(s => new TranscriptSegment
            {
                Index = s.GetProperty("index").GetInt32(),
                StartSeconds = s.GetProperty("startSeconds").GetDouble(),
                EndSeconds = s.GetProperty("endSeconds").GetDouble(),
                Text = s.GetProperty("text").GetString()!,
            }).ToList();
            return new Lecture(id, shown, segments);
        }
    }

    private static IEnumerable<LectureSlide> DistinctSlides => Deck.DistinctBy(s => s.Title);

    [Fact]
    public async Task Notes_have_one_page_per_distinct_slide_with_its_times_its_text_and_what_was_said_over_it()
    {
        var lecture = await IndexedLectureAsync();
        using var alice = graph.Client(graph.AliceKey);

        using var response = await alice.GetAsync($"/api/videos/{lecture.Id}/notes.pdf", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
        var pdf = Path.Combine(Path.GetTempPath(), $"heimdex-notes-{lecture.Id:N}.pdf");
        await File.WriteAllBytesAsync(pdf, await response.Content.ReadAsByteArrayAsync(Cancellation), Cancellation);
        var pages = await PdfText.PagesAsync(pdf);
        Assert.Equal(DistinctSlides.Count(), pages.Count);

        foreach (var (slide, page) in DistinctSlides.Zip(pages))
        {
            // The title and line are only in the picture: finding them as text means OCR put them on the page.
            Assert.Contains(slide.Title, page);
            Assert.Contains(slide.Line, page);

            var showings = lecture.Shown.Where(s => s.Slide.Title == slide.Title).ToList();
            var ranges = ShownRanges().Matches(page.Split('\n').Single(l => l.StartsWith("Shown ", StringComparison.Ordinal)))
                .Select(m => (Start: Clock(m.Groups[1].Value), End: Clock(m.Groups[2].Value))).ToList();
            Assert.Equal(showings.Count, ranges.Count);
            Assert.All(showings.Zip(ranges), pair =>
            {
                Assert.InRange(pair.Second.Start, pair.First.StartSeconds - 1, pair.First.StartSeconds + 1);
                Assert.InRange(pair.Second.End, pair.First.EndSeconds - 1.5, pair.First.EndSeconds + 1);
            });
        }

        // Every word recognised while a slide was plainly on screen is on that slide's page, and not on the others'.
        var said = pages.Select(page => PdfText.Words(page[page.IndexOf("\nSaid\n", StringComparison.Ordinal)..])).ToList();
        var pageOf = DistinctSlides.Select((slide, page) => (slide.Title, page)).ToDictionary();
        var placed = SpokenWords.Of(lecture.Transcript)
            .Select(word => (Word: PdfText.Words(word.Text), Showing: lecture.Shown.FirstOrDefault(s => s.StartSeconds + 0.5 < word.MiddleSeconds && word.MiddleSeconds < s.EndSeconds - 0.5)))
            .Where(w => w.Showing is not null && w.Word.Count == 1)
            .Select(w => (Word: w.Word[0], Page: pageOf[w.Showing!.Slide.Title]))
            .ToList();
        Assert.True(placed.Count >= 10, $"only {placed.Count} words were recognised in the narration: {string.Join(" | ", lecture.Transcript.Select(s => s.Text))}");
        Assert.All(placed, w => Assert.Contains(w.Word, said[w.Page]));

        // And most words that were narrated made it through speech recognition onto their slide's page.
        var narrated = lecture.Shown.SelectMany(s => PdfText.Words(s.Slide.Narration).Select(word => (Word: word, Page: pageOf[s.Slide.Title]))).ToList();
        var found = narrated.Count(w => said[w.Page].Contains(w.Word));
        Assert.True(found * 2 > narrated.Count, $"{found} of {narrated.Count} narrated words are on their slide's page; recognised: {string.Join(" | ", lecture.Transcript.Select(s => s.Text))}");
    }

    [Fact]
    public async Task Each_slides_stored_picture_shows_that_slide_and_no_other()
    {
        var lecture = await IndexedLectureAsync();
        using var s3 = graph.Storage.CreateClient();
        var directory = Directory.CreateTempSubdirectory("heimdex-slide-pictures").FullName;
        using var ocr = new TesseractOcr();
        try
        {
            foreach (var (slide, number) in DistinctSlides.Select((slide, i) => (slide, i + 1)))
            {
                var picture = Path.Combine(directory, $"{number}.jpg");
                using (var stored = await s3.GetObjectAsync(graph.Storage.Bucket, StorageKeys.SlidePicture(lecture.Id, number), Cancellation))
                {
                    await stored.WriteResponseStreamToFileAsync(picture, append: false, Cancellation);
                }

                var text = string.Join('\n', ocr.Read(picture).Select(line => line.Text));
                Assert.Contains(slide.Title, text);
                Assert.Contains(slide.Line, text);
                Assert.All(DistinctSlides.Where(other => other.Title != slide.Title), other => Assert.DoesNotContain(other.Title, text));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Subtitles_in_both_formats_read_back_to_the_transcripts_words_and_times()
    {
        var lecture = await IndexedLectureAsync();
        using var alice = graph.Client(graph.AliceKey);
        var words = SpokenWords.Of(lecture.Transcript);
        Assert.NotEmpty(words);

        foreach (var (format, parse, contentType) in new (string, Func<string, IReadOnlyList<ParsedCue>>, string)[]
                 {
                     ("srt", SubtitleFiles.ParseSrt, "application/x-subrip"), ("vtt", SubtitleFiles.ParseWebVtt, "text/vtt"),
                 })
        {
            using var response = await alice.GetAsync($"/api/videos/{lecture.Id}/subtitles.{format}", Cancellation);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
            var cues = parse(await response.Content.ReadAsStringAsync(Cancellation));

            Assert.Equal(words.Select(w => w.Text), cues.SelectMany(c => c.Lines).SelectMany(l => l.Split(' ')));
            Assert.All(cues, cue =>
            {
                Assert.True(cue.Lines.Count <= 2 && cue.Lines.All(l => l.Length <= 42), string.Join(" / ", cue.Lines));
                Assert.InRange(cue.EndSeconds - cue.StartSeconds, 0.001, 7);
                // Each cue is shown while its words are said: within the transcript segment they come from.
                Assert.Contains(lecture.Transcript, s => s.StartSeconds - 0.001 <= cue.StartSeconds && cue.EndSeconds <= s.EndSeconds + 0.001);
            });
            Assert.All(cues.Zip(cues.Skip(1)), pair => Assert.True(pair.First.EndSeconds <= pair.Second.StartSeconds));
        }
    }

    [Fact]
    public async Task Another_users_lecture_is_not_found_a_translation_is_refused_and_nothing_is_served_before_its_stage_has_run()
    {
        var lecture = await IndexedLectureAsync();
        using var alice = graph.Client(graph.AliceKey);
        using var bob = graph.Client(graph.BobKey);
        string[] outputs = ["subtitles.srt", "subtitles.vtt", "notes.pdf"];

        foreach (var output in outputs)
        {
            using var response = await bob.GetAsync($"/api/videos/{lecture.Id}/{output}", Cancellation);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using (var translation = await alice.GetAsync($"/api/videos/{lecture.Id}/subtitles.vtt?lang=fr", Cancellation))
        {
            Assert.Equal(HttpStatusCode.BadRequest, translation.StatusCode);
        }

        var id = await VideoUploadTests.UploadAsync(alice, await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation), "not yet.mp4");
        await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed", "indexed");
        await graph.ExecuteSqlAsync("UPDATE \"StageRuns\" SET \"State\" = 'Running' WHERE \"VideoId\" = $1 AND \"Stage\" IN ('transcribe', 'notes')", id);
        foreach (var output in outputs)
        {
            using var response = await alice.GetAsync($"/api/videos/{id}/{output}", Cancellation);
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Contains("running", await response.Content.ReadAsStringAsync(Cancellation));
        }
    }

    [Fact]
    public async Task Notes_are_made_again_on_reprocess_and_removed_with_the_video()
    {
        using var alice = graph.Client(graph.AliceKey);
        using var s3 = graph.Storage.CreateClient();
        var id = await VideoUploadTests.UploadAsync(alice, await File.ReadAllBytesAsync(TestFiles.TestVideo, Cancellation), "rebuilt.mp4");
        var indexed = await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed", "indexed");
        await s3.GetObjectMetadataAsync(graph.Storage.Bucket, StorageKeys.Notes(id), Cancellation);
        var notesFinished = NotesFinishedAt(indexed);
        // Gone before the reprocess, so only making it again brings it back (storage times are whole seconds, and
        // the notes are put together in well under one).
        await s3.DeleteObjectAsync(graph.Storage.Bucket, StorageKeys.Notes(id), Cancellation);

        using (var reprocess = await alice.PostAsync($"/api/videos/{id}/reprocess?fromStage=notes", null, Cancellation))
        {
            Assert.Equal(HttpStatusCode.Accepted, reprocess.StatusCode);
        }

        await PipelineTests.WaitForAsync(alice, id, v => v.GetProperty("state").GetString() == "indexed" && NotesFinishedAt(v) > notesFinished, "notes made again");
        var again = await s3.GetObjectMetadataAsync(graph.Storage.Bucket, StorageKeys.Notes(id), Cancellation);
        Assert.True(again.ContentLength > 1000, $"notes of {again.ContentLength} bytes");

        using (var deleted = await alice.DeleteAsync($"/api/videos/{id}", Cancellation))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var left = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = graph.Storage.Bucket, Prefix = StorageKeys.VideoPrefix(id) }, Cancellation);
        Assert.Empty(left.S3Objects ?? []);
    }

    private static DateTimeOffset NotesFinishedAt(JsonElement video) =>
        video.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "notes").GetProperty("finishedAt") is { ValueKind: JsonValueKind.String } finished
            ? finished.GetDateTimeOffset()
            : DateTimeOffset.MinValue;

    private static double Clock(string text) =>
        text.Split(':').Aggregate(0.0, (seconds, part) => seconds * 60 + int.Parse(part, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"(\d+(?::\d\d)+)–(\d+(?::\d\d)+)")]
    private static partial Regex ShownRanges();
}
