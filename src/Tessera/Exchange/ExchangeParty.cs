using System.Text.Json;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Federation;

namespace Tessera.Exchange;

/// <summary>RFC 8693 §3 token type identifiers Tessera accepts and issues.</summary>
public static class ExchangeTokenTypes
{
    public const string AccessToken = "urn:ietf:params:oauth:token-type:access_token";
    public const string IdToken = "urn:ietf:params:oauth:token-type:id_token";
    public const string RefreshToken = "urn:ietf:params:oauth:token-type:refresh_token";
    public const string Jwt = "urn:ietf:params:oauth:token-type:jwt";
    public const string Saml2 = "urn:ietf:params:oauth:token-type:saml2";
    public const string Presentation = Credentials.PresentationExchange.TokenType;

    public static readonly IReadOnlyList<string> Accepted = [AccessToken, IdToken, Jwt, Saml2, Presentation];
    public static readonly IReadOnlyList<string> AcceptedActors = [AccessToken, IdToken, Jwt, Saml2];
    public static readonly IReadOnlyList<string> Issued = [AccessToken, Jwt, IdToken];
}

/// <summary>
/// A verified subject or actor of an exchange: which source vouched for it (a trusted issuer id, a SAML connection
/// id, or <c>tessera</c>), who it is there, and what the token said that rules and policies look at.
/// </summary>
public sealed record ExchangeParty(string Source, string Issuer, string Subject)
{
    /// <summary>The upstream identity to link (foreign subjects); null for Tessera's own tokens.</summary>
    public UpstreamIdentity? Identity { get; init; }

    /// <summary>Tessera's own tokens: the user they name, and the session they came from.</summary>
    public Guid? UserId { get; init; }
    public string? SessionId { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>A verified presentation's subject: which configured presentation, and only the claims its holder disclosed.</summary>
    public string? Presentation { get; init; }
    public System.Text.Json.Nodes.JsonObject? Disclosed { get; init; }

    /// <summary>RFC 8693 §4.1 and §4.4: the token's own actor chain and who it allows to act for its subject.</summary>
    public JsonElement? Act { get; init; }
    public JsonElement? MayAct { get; init; }
}

/// <summary>What one exchange was about and how it ended, kept on the request for the audit row.</summary>
public sealed class ExchangeRecord
{
    private const string Property = "tessera:exchange";

    public ExchangeParty? Subject { get; set; }
    public ExchangeParty? Actor { get; set; }
    public Guid? UserId { get; set; }
    public string? OrganizationId { get; set; }
    public string? Audience { get; set; }
    public string? Scopes { get; set; }

    /// <summary>The rule that refused the exchange, when Tessera's exchange checks refused it.</summary>
    public string? Rule { get; set; }

    public static ExchangeRecord Of(OpenIddictServerTransaction transaction)
    {
        var record = transaction.GetProperty<ExchangeRecord>(Property);
        if (record is null)
        {
            record = new ExchangeRecord();
            transaction.SetProperty(Property, record);
        }

        return record;
    }

    public static ExchangeRecord? Find(OpenIddictServerTransaction transaction) => transaction.GetProperty<ExchangeRecord>(Property);
}
