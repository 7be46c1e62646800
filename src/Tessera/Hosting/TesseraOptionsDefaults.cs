namespace Tessera.Hosting;

/// <summary>Defaults for lists, applied after binding (the binder appends to list defaults instead of replacing them).</summary>
public static class TesseraOptionsDefaults
{
    public static readonly IReadOnlyList<string> UpstreamScopes = ["openid", "email", "profile"];
    public static readonly IReadOnlyList<string> UpstreamAlgorithms = ["RS256", "ES256", "PS256"];
    public static readonly IReadOnlyList<string> TrustedIssuerAlgorithms = ["RS256", "ES256"];

    public static void Apply(TesseraOptions options)
    {
        foreach (var connection in options.Organizations.SelectMany(o => o.Connections))
        {
            Apply(connection);
        }

        foreach (var issuer in options.TrustedIssuers)
        {
            Apply(issuer);
        }

        Credentials.CredentialOptionsValidator.ApplyDefaults(options);
    }

    public static void Apply(ConnectionOptions connection)
    {
        if (connection.Scopes.Count == 0)
        {
            connection.Scopes = [.. UpstreamScopes];
        }

        if (connection.AllowedAlgorithms.Count == 0)
        {
            connection.AllowedAlgorithms = connection.Protocol == "saml2" ? [.. Saml.SamlNames.DefaultSignatureAlgorithms] : [.. UpstreamAlgorithms];
        }
    }

    public static void Apply(TrustedIssuerOptions issuer)
    {
        if (issuer.AllowedAlgorithms.Count == 0)
        {
            issuer.AllowedAlgorithms = [.. TrustedIssuerAlgorithms];
        }
    }
}
