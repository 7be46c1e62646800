using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using Tessera.Exchange;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Protocol.Handlers;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol;

public static class ProtocolServiceCollectionExtensions
{
    /// <summary>OpenIddict's server with Tessera's endpoints, grants, key ring and the handlers in Protocol/Handlers.</summary>
    public static IServiceCollection AddTesseraProtocol(this IServiceCollection services, TesseraModel options)
    {
        services.AddSingleton<ApplicationCache>();
        services.AddSingleton<VerifiedSecretCache>();
        services.AddSingleton<ClientRegistry>();
        services.AddSingleton<ClientSynchronizer>();
        services.AddSingleton<AudienceSelector>();
        services.AddSingleton<ParameterLimits>();
        services.AddScoped<ExchangeTokenVerifier>();
        services.AddScoped<LeanTokenExchange>();
        services.AddScoped<RequestTransaction>();

        var issuer = options.Issuer.Uri;
        services.AddOpenIddict()
            .AddCore(core =>
            {
                core.UseEntityFrameworkCore().UseDbContext<TesseraDbContext>();
                core.ReplaceApplicationManager<OpenIddictEntityFrameworkCoreApplication, TesseraApplicationManager>();
                core.ReplaceTokenStore<OpenIddictEntityFrameworkCoreToken, TesseraTokenStore>();
                core.ReplaceAuthorizationStore<OpenIddictEntityFrameworkCoreAuthorization, TesseraAuthorizationStore>();
            })
            .AddServer(server =>
            {
                server.SetIssuer(issuer)
                    .SetAuthorizationEndpointUris(ProtocolEndpoints.Authorization)
                    .SetTokenEndpointUris(ProtocolEndpoints.Token)
                    .SetUserInfoEndpointUris(ProtocolEndpoints.UserInfo)
                    .SetIntrospectionEndpointUris(ProtocolEndpoints.Introspection)
                    .SetRevocationEndpointUris(ProtocolEndpoints.Revocation)
                    .SetEndSessionEndpointUris(ProtocolEndpoints.EndSession)
                    .SetJsonWebKeySetEndpointUris(ProtocolEndpoints.JsonWebKeySet);

                server.AllowAuthorizationCodeFlow()
                    .AllowRefreshTokenFlow()
                    .AllowClientCredentialsFlow()
                    .AllowTokenExchangeFlow();

                server.SetAccessTokenLifetime(options.Tokens.AccessToken)
                    .SetIdentityTokenLifetime(options.Tokens.IdentityToken)
                    .SetAuthorizationCodeLifetime(options.Tokens.AuthorizationCode)
                    .SetRefreshTokenLifetime(options.Tokens.RefreshToken)
                    // RFC 9700 §4.14.2: any reuse of a rotated refresh token revokes its family, with no grace period.
                    .SetRefreshTokenReuseLeeway(null);

                // RFC 9068: access tokens are signed JWTs that resource servers read themselves.
                server.DisableAccessTokenEncryption();

                // Scopes and resources are checked per client (its permissions), against the live configuration.
                server.DisableScopeValidation();
                server.DisableResourceValidation();

                // RFC 8693 audience values name APIs; each client's exchange policies say which it may ask for.
                server.DisableAudienceValidation();
                server.IgnoreAudiencePermissions();
                server.RegisterClaims(Claims.Subject, Claims.Email, Claims.EmailVerified, Claims.Name, Claims.GivenName,
                    Claims.FamilyName, TesseraClaims.Organization, TesseraClaims.SessionId, Claims.AuthenticationTime);

                server.Configure(o =>
                {
                    // RFC 7636 §4.2: only S256; "plain" is refused.
                    o.CodeChallengeMethods.Clear();
                    o.CodeChallengeMethods.Add(CodeChallengeMethods.Sha256);

                    // RFC 8693: refresh tokens are neither exchanged nor issued by exchange.
                    Replace(o.SubjectTokenTypes, ExchangeTokenTypes.Accepted);
                    Replace(o.ActorTokenTypes, ExchangeTokenTypes.AcceptedActors);
                    Replace(o.RequestedTokenTypes, ExchangeTokenTypes.Issued);
                    o.DefaultRequestedTokenType = ExchangeTokenTypes.AccessToken;
                });

                var aspNetCore = server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableErrorPassthrough();
                if (issuer.Scheme == Uri.UriSchemeHttp)
                {
                    aspNetCore.DisableTransportSecurityRequirement(); // validation refuses http except on loopback
                }

                server.AddEventHandler(LimitParameterSizes.Descriptor);
                server.AddEventHandler(SignWithKeyRing.Descriptor);
                server.AddEventHandler(ValidateWithKeyRing.Descriptor);
                server.AddEventHandler(AcceptRfc7523ClientAssertions.Descriptor);
                server.AddEventHandler(AdvertiseClientAssertionAlgorithms.Descriptor);
                server.AddEventHandler(ClientAssertionAudienceCheck.Descriptor);
                server.AddEventHandler(RejectReplayedClientAssertions.Descriptor);
                server.AddEventHandler(PublishKeyRing.Descriptor);
                server.AddEventHandler(SkipStorageForFamilylessTokens.Descriptor);
                server.AddEventHandler(IssueClientCredentialsTokens.Descriptor);
                server.AddEventHandler(ClientCredentialsNeedAuthentication.Descriptor);
                server.AddEventHandler(RequireLiveSession.Descriptor);
                server.AddEventHandler(ApplyCurrentGrantsOnRefresh.Descriptor);
                server.AddEventHandler(RevokeFamilyOnReplay.Descriptor);
                server.AddEventHandler(RedeemInOneTransaction.OpenDescriptor);
                server.AddEventHandler(RedeemInOneTransaction.CollectDescriptor);
                server.AddEventHandler(RedeemInOneTransaction.CommitDescriptor);
                server.AddEventHandler(IssueCodeInOneTransaction.Descriptor);
                server.AddEventHandler(RequireRegisteredScopes.AuthorizationDescriptor);
                server.AddEventHandler(RequireRegisteredScopes.TokenDescriptor);
                server.AddEventHandler(RestrictResourcesToClientAudiences.AuthorizationDescriptor);
                server.AddEventHandler(RestrictResourcesToClientAudiences.TokenDescriptor);
                server.AddEventHandler(RejectRevokedAccessTokens.Descriptor);
                server.AddEventHandler(RejectTokensOfDisabledUsers.Descriptor);
                server.AddEventHandler(AttachUserInfoClaims.Descriptor);
                server.AddEventHandler(AdvertiseConfiguredScopes.Descriptor);
                server.AddEventHandler(AdvertiseBackchannelLogout.Descriptor);
                server.AddEventHandler(VerifyForeignExchangeTokens.Descriptor);
                server.AddEventHandler(AuthorizeOwnExchangeTokens.Descriptor);
                server.AddEventHandler(IssueExchangedTokens.Descriptor);
                server.AddEventHandler(RefuseAnomalousTokenRequests.Descriptor);
                server.AddEventHandler(ShapeIssuedJwt.Descriptor);
                server.AddEventHandler(CompleteExchangeResponse.Descriptor);
                server.AddEventHandler(LockOutGuessedClients.RefuseDescriptor);
                server.AddEventHandler(LockOutGuessedClients.CountDescriptor);
                server.AddEventHandler(AuditProtocolResponses.TokenDescriptor);
                server.AddEventHandler(MeasureTokenResponses.Descriptor);
                server.AddEventHandler(AuditProtocolResponses.AuthorizationDescriptor);
                server.AddEventHandler(AuditProtocolResponses.IntrospectionDescriptor);

                server.RemoveEventHandler(Introspection.ValidateAuthorizedParty.Descriptor);
                server.AddEventHandler(AuthorizeIntrospectionByAudience.Descriptor);
                server.RemoveEventHandler(Introspection.AttachApplicationClaims.Descriptor);
                server.AddEventHandler(AttachIntrospectionClaims.Descriptor);
                server.RemoveEventHandler(Revocation.RevokeToken.Descriptor);
                server.AddEventHandler(RevokeTokenOrFamily.Descriptor);
            });

        services.AddOptions<OpenIddictServerOptions>().Configure<TimeProvider>((server, time) => server.TimeProvider = time);
        services.AddSingleton<ServerHandlerIndex>();
        services.Replace(ServiceDescriptor.Scoped<IOpenIddictServerDispatcher, IndexedServerDispatcher>());

        // OpenIddict wants credentials at start; the key ring supplies them, and the handlers above keep them current.
        services.AddOptions<OpenIddictServerOptions>().Configure<KeyRing>((server, keys) =>
        {
            keys.EnsureLoaded();
            server.SigningCredentials.Add(keys.SigningCredentials(SecurityAlgorithms.EcdsaSha256));
            server.SigningCredentials.Add(keys.SigningCredentials(SecurityAlgorithms.RsaSha256));
            server.EncryptionCredentials.Add(keys.EncryptingCredentials());
        });

        return services;
    }

    private static void Replace(HashSet<string> set, IEnumerable<string> values)
    {
        set.Clear();
        set.UnionWith(values);
    }
}
