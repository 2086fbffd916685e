using Heimdex.Search;

namespace Heimdex.Tests.Search;

public sealed class SnippetsTests
{
    [Fact]
    public void Markup_in_the_text_is_escaped_and_only_the_matches_become_marks()
    {
        var headline = $"<img src=x onerror=\"alert('1')\"> & {Snippets.StartSelector}country{Snippets.StopSelector} </mark><script>";

        Assert.Equal("&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt; &amp; <mark>country</mark> &lt;/mark&gt;&lt;script&gt;",
            Snippets.Html(headline));
    }

    [Fact]
    public void Text_without_markup_or_matches_is_unchanged()
    {
        Assert.Equal("Leaf, deer and a tyre — ünïcödé 🎬", Snippets.Html("Leaf, deer and a tyre — ünïcödé 🎬"));
    }
}
