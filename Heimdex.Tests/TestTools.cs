using Heimdex.AppHost.Provisioning;

namespace Heimdex.Tests;

/// <summary>
/// Programs only the tests use (a speech synthesiser to make narrated media, a PDF reader to check the notes, iproute2
/// to give a worker a network of its own), installed
/// with apt-get on first use by the same code that installs the graph's own packages.
/// </summary>
public static class TestTools
{
    public static readonly SystemRequirement EspeakNg = new("espeak-ng", "espeak-ng");
    public static readonly SystemRequirement PdfToText = new("pdftotext", "poppler-utils");
    public static readonly SystemRequirement PdfInfo = new("pdfinfo", "poppler-utils");
    public static readonly SystemRequirement IpRoute = new("ip", "iproute2");

    private static readonly SemaphoreSlim Installing = new(1, 1);

    public static async Task EnsureAsync(params SystemRequirement[] requirements)
    {
        await Installing.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            await new SystemPackages(line => TestContext.Current.SendDiagnosticMessage(line)).EnsureAsync(requirements, TestContext.Current.CancellationToken);
        }
        finally
        {
            Installing.Release();
        }
    }
}
