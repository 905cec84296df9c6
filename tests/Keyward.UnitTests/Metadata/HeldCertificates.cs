using Keyward.Metadata.Core;

namespace Keyward.UnitTests.Metadata;

/// <summary>The certificates "Keyward holds" per user, for the metadata service's signature check in memory.</summary>
public sealed class HeldCertificates : IUserCertificates
{
    public Dictionary<string, string> ByUser { get; } = new(StringComparer.Ordinal);

    public List<string> Asked { get; } = [];

    public Task<string?> CertificateOfAsync(string userId, CancellationToken cancellationToken)
    {
        Asked.Add(userId);
        return Task.FromResult(ByUser.GetValueOrDefault(userId));
    }
}
