using System.Text.Json.Nodes;
using Tessera.Credentials.SdJwt;

namespace Tessera.Credentials.Tests;

/// <summary>The disclosures and digests RFC 9901 prints, reproduced by this library's encoding and hashing.</summary>
public sealed class DisclosureVectorTests
{
    // RFC 9901 §4.2.3 / §4.2.4.1: the object-property disclosure ["6qMQvRL5haj", "family_name", "Möbius"].
    [Fact]
    public void Digest_of_the_rfc_property_disclosure_matches_the_rfc()
    {
        const string encoded = "WyI2cU1RdlJMNWhhaiIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0";
        Assert.Equal("uutlBuYeMDyjLLTpf6Jxi7yNkEF35jdyWMn9U7b_RYY", DigestAlgorithm.Sha256.Digest(encoded));

        var disclosure = Disclosure.Parse(encoded).Value!;
        Assert.Equal("6qMQvRL5haj", disclosure.Salt);
        Assert.Equal("family_name", disclosure.ClaimName);
        Assert.Equal("Möbius", disclosure.Value!.GetValue<string>());
    }

    // RFC 9901 §4.2.2 / §4.2.4.2: the array-element disclosure ["lklxF5jMYlGTPUovMNIvCA", "FR"].
    [Fact]
    public void Digest_of_the_rfc_array_element_disclosure_matches_the_rfc()
    {
        const string encoded = "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0";
        Assert.Equal("w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs", DigestAlgorithm.Sha256.Digest(encoded));

        var disclosure = Disclosure.Parse(encoded).Value!;
        Assert.True(disclosure.IsArrayElement);
        Assert.Equal("lklxF5jMYlGTPUovMNIvCA", disclosure.Salt);
        Assert.Equal("FR", disclosure.Value!.GetValue<string>());
    }

    // RFC 9901 §4.2.1: ["_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius"]; JSON without spaces after commas
    // encodes differently from the RFC's text, and either encoding is a valid disclosure of the same claim.
    [Fact]
    public void A_disclosure_written_here_decodes_to_the_same_claim_as_the_rfc_one()
    {
        var ours = Disclosure.WithSalt("_26bc4LT-ac6q2KI6cBW5es", "family_name", JsonValue.Create("Möbius"));
        var rfc = Disclosure.Parse("WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0").Value!;

        Assert.Equal(rfc.Salt, ours.Salt);
        Assert.Equal(rfc.ClaimName, ours.ClaimName);
        Assert.Equal(rfc.Value!.GetValue<string>(), Disclosure.Parse(ours.Encoded).Value!.Value!.GetValue<string>());
        Assert.Equal("X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0", DigestAlgorithm.Sha256.Digest(rfc.Encoded));
    }

    [Fact]
    public void Fresh_salts_are_128_bits_and_never_repeat()
    {
        var salts = Enumerable.Range(0, 200).Select(_ => Disclosure.ForProperty("email", JsonValue.Create("a@b.example")).Salt).ToList();
        Assert.All(salts, salt => Assert.Equal(22, salt.Length)); // 16 bytes, base64url without padding
        Assert.Equal(salts.Count, salts.Distinct().Count());
    }
}
