using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Heimdex.Conventions;

/// <summary>
/// The text form of an API key and the pieces stored from it. The AppHost creates the administrator's key in this form
/// and the API reads it.
/// </summary>
public sealed record ApiKeyCredential(string Prefix, string Secret)
{
    private const string Scheme = "hx";

    public static ApiKeyCredential Generate() => new(
        Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
        Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));

    public static bool TryParse(string? text, [NotNullWhen(true)] out ApiKeyCredential? credential)
    {
        credential = null;
        var parts = text?.Split('_');
        if (parts is not [Scheme, { Length: 12 } prefix, { Length: > 0 } secret] || !prefix.All(char.IsAsciiHexDigitLower))
        {
            return false;
        }

        credential = new ApiKeyCredential(prefix, secret);
        return true;
    }

    public byte[] SecretHash => SHA256.HashData(Encoding.UTF8.GetBytes(Secret));

    public bool Matches(byte[] storedHash) => CryptographicOperations.FixedTimeEquals(SecretHash, storedHash);

    public override string ToString() => $"{Scheme}_{Prefix}_{Secret}";
}
