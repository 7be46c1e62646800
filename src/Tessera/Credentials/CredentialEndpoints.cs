using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Credentials.Vc;
using Tessera.Hosting;
using Tessera.Keys;

namespace Tessera.Credentials;

/// <summary>
/// The OpenID4VCI 1.0 credential issuer: its metadata, the JWT VC issuer metadata with the key ring's keys, type
/// metadata per <c>vct</c>, the nonce, token (pre-authorized code) and credential endpoints, and the status lists.
/// Every refusal is the protocol's own error JSON; nothing a request sends reaches a 5xx.
/// </summary>
public static class CredentialEndpoints
{
    public const string IssuerMetadataPath = "/.well-known/openid-credential-issuer";
    public const string PreAuthorizedServerMetadataPath = "/.well-known/oauth-authorization-server/credentials";
    public const string NoncePath = "/credentials/nonce";
    public const string TokenPath = "/credentials/token";
    public const string CredentialPath = "/credentials/credential";
    public const string StatusPath = "/credentials/status";
    public const string TypesPath = "/credentials/types";
    public const int MaxRequestBytes = 64 * 1024;

    public static void MapCredentialIssuer(this IEndpointRouteBuilder app)
    {
        app.MapGet(IssuerMetadataPath, (HttpContext http) => Json(http, IssuerMetadata(Model(http))));
        app.MapGet(SdJwtVcNames.IssuerMetadataPath, (HttpContext http) => Json(http, new JwtVcIssuerMetadata(Model(http).Issuer.Name,
            http.RequestServices.GetRequiredService<KeyRing>().PublishedSigningKeys().Select(k => Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromSecurityKey(k.Key)).ToList()).ToJson()));
        app.MapGet(PreAuthorizedServerMetadataPath, (HttpContext http) => Json(http, PreAuthorizedServerMetadata(Model(http).Issuer)));
        app.MapGet(TypesPath + "/{id}", (HttpContext http, string id) =>
            Model(http).Declared.Credentials.FirstOrDefault(c => c.Id == id) is { } credential ? Json(http, TypeMetadata(credential)) : Results.NotFound());
        app.MapGet(StatusPath + "/{list}", StatusListAsync);
        app.MapPost(NoncePath, (Delegate)NonceAsync);
        app.MapPost(TokenPath, (Delegate)TokenAsync);
        app.MapPost(CredentialPath, (Delegate)CredentialAsync);
    }

    private static TesseraModel Model(HttpContext http) => http.RequestServices.GetRequiredService<TesseraConfiguration>().Current;

    private static IResult Json(HttpContext http, JsonObject body)
    {
        http.Response.Headers.CacheControl = "max-age=60";
        return Results.Text(body.ToJsonString(), "application/json");
    }

    /// <summary>OpenID4VCI 1.0 §12.2.4.</summary>
    public static JsonObject IssuerMetadata(TesseraModel model)
    {
        var issuer = model.Issuer;
        var configurations = new JsonObject();
        foreach (var credential in model.Declared.Credentials)
        {
            var claims = new JsonArray();
            foreach (var (name, claim) in credential.Claims)
            {
                claims.Add(new JsonObject { ["path"] = new JsonArray(name) });
                foreach (var age in claim.Thresholds.Order())
                {
                    claims.Add(new JsonObject { ["path"] = new JsonArray(name, age.ToString(CultureInfo.InvariantCulture)) });
                }
            }

            configurations[credential.Id] = new JsonObject
            {
                ["format"] = SdJwtVcNames.Type,
                ["vct"] = credential.Vct,
                ["scope"] = credential.EffectiveScope,
                ["cryptographic_binding_methods_supported"] = new JsonArray("jwk"),
                ["credential_signing_alg_values_supported"] = new JsonArray(credential.SigningAlgorithm),
                ["proof_types_supported"] = new JsonObject
                {
                    ["jwt"] = new JsonObject { ["proof_signing_alg_values_supported"] = new JsonArray([.. ProofOfPossession.Algorithms.Select(a => JsonValue.Create(a))]) },
                },
                ["credential_metadata"] = new JsonObject
                {
                    ["display"] = new JsonArray(new JsonObject { ["name"] = credential.DisplayName ?? credential.Id }),
                    ["claims"] = claims,
                },
            };
        }

        return new JsonObject
        {
            ["credential_issuer"] = issuer.Name,
            ["authorization_servers"] = new JsonArray(issuer.Name, CredentialAccess.PreAuthorizedServer(issuer)),
            ["credential_endpoint"] = issuer.Url(CredentialPath),
            ["nonce_endpoint"] = issuer.Url(NoncePath),
            ["display"] = new JsonArray(new JsonObject { ["name"] = "Tessera" }),
            ["credential_configurations_supported"] = configurations,
        };
    }

    /// <summary>RFC 8414 metadata of the authorization server that redeems pre-authorized codes (OpenID4VCI 1.0 §12.3).</summary>
    public static JsonObject PreAuthorizedServerMetadata(TesseraIssuer issuer) => new()
    {
        ["issuer"] = CredentialAccess.PreAuthorizedServer(issuer),
        ["token_endpoint"] = issuer.Url(TokenPath),
        ["grant_types_supported"] = new JsonArray(CredentialOffers.PreAuthorizedGrant),
        ["pre-authorized_grant_anonymous_access_supported"] = true,
    };

    /// <summary>SD-JWT VC type metadata (draft-ietf-oauth-sd-jwt-vc §6): the type's name and which claims are selectively disclosable.</summary>
    public static JsonObject TypeMetadata(CredentialOptions credential)
    {
        var claims = new JsonArray();
        foreach (var (name, claim) in credential.Claims)
        {
            var sd = credential.Disclosable.Contains(name) ? "always" : "never";
            claims.Add(new JsonObject { ["path"] = new JsonArray(name), ["sd"] = sd });
            foreach (var age in claim.Thresholds.Order())
            {
                claims.Add(new JsonObject { ["path"] = new JsonArray(name, age.ToString(CultureInfo.InvariantCulture)), ["sd"] = sd });
            }
        }

        return new JsonObject { ["vct"] = credential.Vct, ["name"] = credential.DisplayName ?? credential.Id, ["claims"] = claims };
    }

    private static async Task<IResult> StatusListAsync(HttpContext http, string list)
    {
        if (!int.TryParse(list, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1
            || await http.RequestServices.GetRequiredService<CredentialStatusLists>().PublishAsync(number, http.RequestAborted) is not { } token)
        {
            return Results.NotFound();
        }

        // The list is made from the stored credentials at each fetch; caches may keep it for its ttl at most.
        http.Response.Headers.CacheControl = $"max-age={(int)CredentialStatusLists.TimeToLive.TotalSeconds}";
        return Results.Text(token, "application/statuslist+jwt");
    }

    /// <summary>OpenID4VCI 1.0 §7.</summary>
    private static async Task<IResult> NonceAsync(HttpContext http)
    {
        var nonce = await http.RequestServices.GetRequiredService<CredentialNonces>().CreateAsync(http.RequestAborted);
        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(new JsonObject { ["c_nonce"] = nonce });
    }

    /// <summary>OpenID4VCI 1.0 §6: the pre-authorized code grant, and nothing else, at the pre-authorized server's token endpoint.</summary>
    private static async Task<IResult> TokenAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType)
        {
            return OAuthError(http, 400, "invalid_request", "send the token request as application/x-www-form-urlencoded");
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (form.Any(f => f.Value.Count > 1))
        {
            return OAuthError(http, 400, "invalid_request", "a parameter is repeated");
        }

        if (form["grant_type"].ToString() != CredentialOffers.PreAuthorizedGrant)
        {
            return OAuthError(http, 400, "unsupported_grant_type", $"this endpoint redeems {CredentialOffers.PreAuthorizedGrant} only");
        }

        var offers = http.RequestServices.GetRequiredService<CredentialOffers>();
        var (offer, error, description) = await offers.RedeemAsync(form["pre-authorized_code"].FirstOrDefault(), form["tx_code"].FirstOrDefault(), http.RequestAborted);
        var credential = offer is null ? null : Model(http).Declared.Credentials.FirstOrDefault(c => c.Id == offer.ConfigurationId);
        if (offer is null || credential is null)
        {
            return OAuthError(http, 400, error ?? "invalid_grant", description ?? "the offered credential is no longer configured");
        }

        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(new JsonObject
        {
            ["access_token"] = offers.AccessToken(offer, credential),
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)CredentialOffers.AccessTokenLifetime.TotalSeconds,
            ["scope"] = credential.EffectiveScope,
        });
    }

    /// <summary>OpenID4VCI 1.0 §8.</summary>
    private static async Task<IResult> CredentialAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization;
        if (header.Count != 1 || !header[0]!.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.StatusCode(401);
        }

        var (grant, refused) = await http.RequestServices.GetRequiredService<CredentialAccess>().AuthenticateAsync(header[0]!["Bearer ".Length..].Trim(), http.RequestAborted);
        if (grant is null)
        {
            // RFC 6750 §3.1
            http.Response.Headers.WWWAuthenticate = $"Bearer error=\"invalid_token\", error_description=\"{refused}\"";
            return OAuthError(http, 401, "invalid_token", refused!);
        }

        var body = await ReadJsonAsync(http);
        if (body is null)
        {
            return OAuthError(http, 400, "invalid_credential_request", $"the body must be one JSON object of at most {MaxRequestBytes} bytes");
        }

        if (body.ContainsKey("credential_identifier"))
        {
            return OAuthError(http, 400, "unknown_credential_identifier", "credential identifiers are not issued; name a credential_configuration_id");
        }

        var model = Model(http);
        var configurationId = body["credential_configuration_id"] is JsonValue id && id.TryGetValue<string>(out var text) ? text : null;
        var credential = model.Declared.Credentials.FirstOrDefault(c => c.Id == configurationId);
        if (credential is null)
        {
            return OAuthError(http, 400, "unknown_credential_configuration", "credential_configuration_id names no credential this issuer offers");
        }

        if (!grant.Scopes.Contains(credential.EffectiveScope))
        {
            http.Response.Headers.WWWAuthenticate = $"Bearer error=\"insufficient_scope\", scope=\"{credential.EffectiveScope}\"";
            return OAuthError(http, 403, "insufficient_scope", $"the access token does not carry the scope {credential.EffectiveScope}");
        }

        if (body["proofs"] is not JsonObject proofs || proofs.Count != 1 || proofs["jwt"] is not JsonArray jwts || jwts.Count != 1
            || jwts[0] is not JsonValue only || !only.TryGetValue<string>(out var proofJwt))
        {
            return OAuthError(http, 400, "invalid_proof", "send exactly one proof as proofs.jwt: [\"...\"]");
        }

        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var (proof, proofError) = await ProofOfPossession.CheckAsync(proofJwt, model.Issuer.Name, grant.ClientId, now);
        if (proof is null)
        {
            return OAuthError(http, 400, "invalid_proof", proofError!);
        }

        if (!await http.RequestServices.GetRequiredService<CredentialNonces>().ConsumeAsync(proof.Nonce, http.RequestAborted))
        {
            return OAuthError(http, 400, "invalid_nonce", "the proof's nonce is not a fresh c_nonce from the nonce endpoint");
        }

        var issued = await http.RequestServices.GetRequiredService<CredentialIssuance>().IssueAsync(credential, grant.User, proof.HolderKey, grant.ClientId, http.RequestAborted);
        if (issued.Credential is null)
        {
            return OAuthError(http, 400, issued.Error!, issued.Description!);
        }

        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(new JsonObject { ["credentials"] = new JsonArray(new JsonObject { ["credential"] = issued.Credential }) });
    }

    private static async Task<JsonObject?> ReadJsonAsync(HttpContext http)
    {
        if (http.Request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || http.Request.ContentLength is > MaxRequestBytes)
        {
            return null;
        }

        var body = await Hosting.BoundedRequestBody.ReadAsync(http.Request, MaxRequestBytes);
        if (body is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 16 }) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static IResult OAuthError(HttpContext http, int status, string error, string description)
    {
        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(new JsonObject { ["error"] = error, ["error_description"] = description }, statusCode: status);
    }
}
