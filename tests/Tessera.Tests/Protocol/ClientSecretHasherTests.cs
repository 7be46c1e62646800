using Tessera.Protocol;

namespace Tessera.Tests.Protocol;

public sealed class ClientSecretHasherTests
{
    [Fact]
    public void A_fast_hash_verifies_its_own_secret_and_nothing_else()
    {
        var random = new Random(7);
        string[] secrets =
        [
            ClientSecretHasher.Generate(), "", "s", "pässwörd €", "\uD83D\uDE00 pair", "lone \uD800 surrogate", new string('x', 255),
            new string('é', 200), new string('y', 3000),
            .. Enumerable.Range(0, 50).Select(_ => new string([.. Enumerable.Range(0, random.Next(1, 400)).Select(_ => (char)random.Next(1, 0xFFFF))])),
        ];
        foreach (var secret in secrets)
        {
            var hash = ClientSecretHasher.FastHash(secret);
            Assert.True(ClientSecretHasher.VerifyFastHash(secret, hash), secret);
            Assert.False(ClientSecretHasher.VerifyFastHash(secret + "x", hash));
            Assert.False(ClientSecretHasher.VerifyFastHash(secret, hash + " "));
            Assert.False(ClientSecretHasher.VerifyFastHash(secret, hash[..^1]));
            Assert.False(ClientSecretHasher.VerifyFastHash(secret, hash["sha256:".Length..]));
            Assert.False(ClientSecretHasher.VerifyFastHash(secret, hash[..^2] + (hash[^2] == 'A' ? 'B' : 'A') + hash[^1]));
            Assert.False(ClientSecretHasher.VerifyFastHash(secret, hash.ToUpperInvariant() == hash ? hash.ToLowerInvariant() : hash.ToUpperInvariant()));
        }
    }
}
