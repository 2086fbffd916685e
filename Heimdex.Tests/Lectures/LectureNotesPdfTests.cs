using Heimdex.Tests.Pipeline;
using Heimdex.Worker.Lectures;

namespace Heimdex.Tests.Lectures;

public sealed class LectureNotesPdfTests
{
    [Fact]
    public async Task Each_slide_has_its_page_with_selectable_text_and_long_speech_continues_on_the_next_page()
    {
        var picture = await MediaFactory.TextImageAsync("Roman Roads");
        var longSpeech = string.Join(' ', Enumerable.Range(0, 1500).Select(i => $"word{i}"));
        NotesPage[] pages =
        [
            new(new Slide(1, [new ShownRange(0, 65), new ShownRange(3700, 3720)]), picture, ["Roman Roads", "Straight stone roads"], "The Romans built roads."),
            new(new Slide(2, [new ShownRange(65, 90)]), picture, [], longSpeech),
            new(new Slide(3, [new ShownRange(90, 95)]), null, ["Ünïcödé — naïve café"], ""),
        ];
        var path = Path.Combine(Path.GetTempPath(), $"heimdex-notes-{Guid.NewGuid():N}.pdf");
        await using (var file = File.Create(path))
        {
            LectureNotesPdf.Write("A lecture on roads", pages, file);
        }

        var text = await PdfText.PagesAsync(path);

        Assert.True(text.Count > 3, $"{text.Count} pages: 1500 words do not fit beside and under one slide's picture");
        Assert.Contains("Slide 1 of 3", text[0]);
        Assert.Contains("Shown 0:00–1:05, 1:01:40–1:02:00", text[0]);
        Assert.Contains("Straight stone roads", text[0]);
        Assert.Contains("The Romans built roads.", text[0]);
        Assert.Contains("Slide 2 of 3", text[1]);
        Assert.Contains("(no text was read on this slide)", text[1]);
        var continued = text.Skip(1).Take(text.Count - 2).ToList();
        Assert.All(continued.Skip(1), page => Assert.Contains("Slide 2 of 3 (continued)", page));
        Assert.Equal(Enumerable.Range(0, 1500).Select(i => $"word{i}"), continued.SelectMany(PdfText.Words).Where(w => w.StartsWith("word", StringComparison.Ordinal)));
        Assert.Contains("Slide 3 of 3", text[^1]);
        Assert.Contains("Ünïcödé — naïve café", text[^1]);
        Assert.Contains("(nothing was said while this slide was shown)", text[^1]);
    }
}
