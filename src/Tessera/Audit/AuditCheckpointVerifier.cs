using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Audit;

/// <summary>A list of checkpoints as verified: oldest first, or the first reason it cannot be trusted.</summary>
public sealed record AuditCheckpointList(IReadOnlyList<AuditCheckpoint> Checkpoints, int SignaturesVerified, string? Problem)
{
    public bool Trusted => Problem is null;
}

/// <summary>
/// Checks checkpoints before the chain is held against them: each signature with the library (a <c>typ</c> of
/// <c>audit-checkpoint+jwt</c>, ES256 only, the expected issuer, the issuer's published keys), the claims, and that each
/// checkpoint names the one before it. A checkpoint whose key has since left the key set is trusted only when a later
/// checkpoint whose signature verifies chains back to it, since that one committed to its exact bytes; so the newest
/// checkpoint's own signature must verify.
/// </summary>
public static class AuditCheckpointVerifier
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <summary>Validation against the key set advertised by a Tessera's discovery document, and the issuer it names there.</summary>
    public static TokenValidationParameters Discovered(ConfigurationManager<OpenIdConnectConfiguration> discovery) => Common(new TokenValidationParameters
    {
        ConfigurationManager = discovery,
    });

    /// <summary>Validation against keys at hand (the key ring's), for an issuer known in advance.</summary>
    public static TokenValidationParameters Known(string issuer, IEnumerable<SecurityKey> keys) => Common(new TokenValidationParameters
    {
        ValidIssuer = issuer,
        IssuerSigningKeys = keys.ToList(),
    });

    private static TokenValidationParameters Common(TokenValidationParameters parameters)
    {
        parameters.ValidTypes = [AuditCheckpoint.TokenType];
        parameters.ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256];
        parameters.ValidateAudience = false; // a checkpoint is addressed to anyone
        parameters.ValidateLifetime = false; // and never expires: it states what the chain held when it was signed
        parameters.RequireExpirationTime = false;
        parameters.RequireSignedTokens = true;
        return parameters;
    }

    public static async Task<AuditCheckpointList> VerifyAsync(IEnumerable<string> tokens, TokenValidationParameters parameters, CancellationToken cancellationToken)
    {
        var parsed = new List<(AuditCheckpoint Checkpoint, bool Signed)>();
        var position = 0;
        foreach (var token in tokens.Distinct(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            position++;
            var result = await Handler.ValidateTokenAsync(token, parameters);
            bool signed;
            JsonWebToken jwt;
            if (result.IsValid)
            {
                (signed, jwt) = (true, (JsonWebToken)result.SecurityToken);
            }
            else if (result.Exception is SecurityTokenSignatureKeyNotFoundException && Handler.CanReadToken(token))
            {
                // Its key is no longer published: usable only if a later checkpoint vouches for it (below).
                (signed, jwt) = (false, Handler.ReadJsonWebToken(token));
            }
            else
            {
                return Refused(parsed, $"checkpoint {position} of the list is refused: {Reason(result.Exception, token)}");
            }

            if (AuditCheckpoint.FromToken(jwt, token, out var problem) is not { } checkpoint)
            {
                return Refused(parsed, $"checkpoint {position} of the list is refused: {problem}");
            }

            parsed.Add((checkpoint, signed));
        }

        parsed.Sort((a, b) => a.Checkpoint.Count.CompareTo(b.Checkpoint.Count));
        for (var i = 1; i < parsed.Count; i++)
        {
            var (previous, current) = (parsed[i - 1].Checkpoint, parsed[i].Checkpoint);
            if (current.Count == previous.Count || current.HeadId <= previous.HeadId)
            {
                return Refused(parsed, $"{AuditChainVerifier.Describe(current)} and {AuditChainVerifier.Describe(previous)} contradict each other: more rows must end at a later row");
            }
        }

        for (var i = 1; i < parsed.Count; i++)
        {
            var (previous, current) = (parsed[i - 1].Checkpoint, parsed[i].Checkpoint);
            if (current.PreviousCheckpoint != previous.Hash)
            {
                return Refused(parsed, $"{AuditChainVerifier.Describe(current)} does not follow {AuditChainVerifier.Describe(previous)}: its previous_checkpoint is not that checkpoint's hash (a checkpoint between them is missing from the list, or one was forged)");
            }
        }

        if (parsed.Count > 0 && !parsed[^1].Signed)
        {
            return Refused(parsed, $"the signature of the newest checkpoint, {AuditChainVerifier.Describe(parsed[^1].Checkpoint)}, cannot be checked: its key is not in the issuer's key set");
        }

        return new AuditCheckpointList([.. parsed.Select(p => p.Checkpoint)], parsed.Count(p => p.Signed), null);
    }

    private static AuditCheckpointList Refused(List<(AuditCheckpoint Checkpoint, bool Signed)> parsed, string problem) =>
        new([], parsed.Count(p => p.Signed), problem);

    /// <summary>The library's verdict in a few words (its messages carry the whole token, which is public here but long).</summary>
    private static string Reason(Exception? exception, string token) => exception switch
    {
        // The library reports a wrong algorithm as a signature that does not verify; the header says which it was.
        SecurityTokenInvalidSignatureException when Algorithm(token) is { } alg && alg != SecurityAlgorithms.EcdsaSha256 =>
            alg == "none" ? "it is not signed (alg none)" : $"it is signed with {alg}, not ES256",
        SecurityTokenInvalidAlgorithmException => "it is not signed with ES256",
        SecurityTokenInvalidTypeException => $"its typ is not {AuditCheckpoint.TokenType}",
        SecurityTokenInvalidIssuerException => "its iss is not the issuer that discovery names",
        SecurityTokenInvalidSignatureException => "its signature does not verify with the issuer's keys",
        SecurityTokenMalformedException => "it is not a compact JWS",
        null => "it is not valid",
        _ => exception.GetType().Name,
    };

    private static string? Algorithm(string token) => Handler.CanReadToken(token) ? Handler.ReadJsonWebToken(token).Alg : null;
}
