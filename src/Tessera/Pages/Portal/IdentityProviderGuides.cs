using Tessera.Federation;

namespace Tessera.Pages.Portal;

/// <summary>One identity provider the portal walks an admin through: its protocol, its own short steps, and the names its screens use.</summary>
public sealed record IdentityProviderGuide(string Key, string Name, string Protocol, IReadOnlyList<string> Steps)
{
    /// <summary>What that IdP calls the issuer (OpenID Connect) or where its metadata is found (SAML).</summary>
    public string? Where { get; init; }

    public bool IsSaml => Protocol == SamlConnectionProtocol.ProtocolName;

    /// <summary>The page's heading: the IdP by name, or for the generic ones, the protocol.</summary>
    public string Heading => Key is "oidc" or "saml" ? $"Connect your {(IsSaml ? "SAML 2.0" : "OpenID Connect")} identity provider" : $"Connect {Name}";
}

/// <summary>The identity providers the portal has steps for, and the generic ones for everything else.</summary>
public static class IdentityProviderGuides
{
    public static readonly IReadOnlyList<IdentityProviderGuide> All =
    [
        new("okta-oidc", "Okta (OpenID Connect)", OidcConnectionProtocol.ProtocolName,
        [
            "In the Okta Admin Console, open Applications › Applications › Create App Integration, and choose OIDC - OpenID Connect, then Web Application.",
            "Paste the redirect URI below into “Sign-in redirect URIs”. Leave “Authorization Code” as the grant type.",
            "Under Assignments, assign the people or groups who will sign in.",
            "From the application's General tab, copy the “Client ID” and the “Client secret” into the form below.",
        ])
        { Where = "The issuer is your Okta domain, for example https://example.okta.com (or your custom authorization server's “Issuer URI”)." },
        new("okta-saml", "Okta (SAML)", SamlConnectionProtocol.ProtocolName,
        [
            "In the Okta Admin Console, open Applications › Applications › Create App Integration, and choose SAML 2.0.",
            "Paste the ACS URL below into “Single sign-on URL” and keep “Use this for Recipient URL and Destination URL” ticked.",
            "Paste the SP entity ID below into “Audience URI (SP Entity ID)”. Set “Name ID format” to Persistent.",
            "Under “Attribute Statements”, add email = user.email, givenName = user.firstName, surname = user.lastName.",
            "Under Assignments, assign the people or groups who will sign in.",
        ])
        { Where = "On the Sign On tab, copy the “Metadata URL” (or open it and paste the XML)." },
        new("entra-oidc", "Microsoft Entra ID (OpenID Connect)", OidcConnectionProtocol.ProtocolName,
        [
            "In the Microsoft Entra admin center, open App registrations › New registration.",
            "Under “Redirect URI”, choose the platform Web and paste the redirect URI below.",
            "Copy the “Application (client) ID” into Client ID. Under Certificates & secrets › New client secret, copy the secret's “Value” (not its ID) into Client secret.",
            "Under Token configuration, add the optional claim email to the ID token.",
        ])
        { Where = "The issuer is https://login.microsoftonline.com/{Directory (tenant) ID}/v2.0." },
        new("entra-saml", "Microsoft Entra ID (SAML)", SamlConnectionProtocol.ProtocolName,
        [
            "In the Microsoft Entra admin center, open Enterprise applications › New application › Create your own application (non-gallery), then Single sign-on › SAML.",
            "Under Basic SAML Configuration, paste the SP entity ID below into “Identifier (Entity ID)” and the ACS URL into “Reply URL (Assertion Consumer Service URL)”.",
            "Under Attributes & Claims, keep emailaddress, givenname and surname; set the unique user identifier to user.objectid with a persistent format.",
            "Under Users and groups, assign the people or groups who will sign in.",
        ])
        { Where = "Copy the “App Federation Metadata Url” from SAML Certificates." },
        new("google-saml", "Google Workspace (SAML)", SamlConnectionProtocol.ProtocolName,
        [
            "In the Google Admin console, open Apps › Web and mobile apps › Add app › Add custom SAML app.",
            "On “Google Identity Provider details”, download the metadata (IdP metadata) and paste its XML below.",
            "On “Service provider details”, paste the ACS URL below into “ACS URL” and the SP entity ID into “Entity ID”. Set “Name ID format” to PERSISTENT.",
            "Under Attribute mapping, map Primary email to email, First name to givenName, Last name to surname; then turn the app on for the right organizational units.",
        ])
        { Where = "Google shows the IdP metadata as a download on “Google Identity Provider details”." },
        new("adfs-saml", "AD FS (SAML)", SamlConnectionProtocol.ProtocolName,
        [
            "In AD FS Management, open Relying Party Trusts › Add Relying Party Trust (claims aware).",
            "Choose “Import data about the relying party published online” and give it the SP metadata URL below; or enter it by hand: “Relying party SAML 2.0 SSO service URL” is the ACS URL and “Relying party trust identifier” is the SP entity ID.",
            "In the claim issuance policy, send E-Mail-Addresses as E-Mail Address, Given-Name as Given Name, Surname as Surname, and a persistent Name ID.",
        ])
        { Where = "AD FS publishes its metadata at https://{your AD FS host}/FederationMetadata/2007-06/FederationMetadata.xml." },
        new("ping-saml", "PingFederate (SAML)", SamlConnectionProtocol.ProtocolName,
        [
            "In PingFederate, open SP Connections › Create Connection with the Browser SSO profile; import the SP metadata URL below, or type the SP entity ID into “Partner's Entity ID (Connection ID)”.",
            "Under Protocol Settings, add the ACS URL below as an “Assertion Consumer Service URL” with the POST binding.",
            "In the attribute contract, send email, givenName and surname.",
        ])
        { Where = "Export the IdP metadata from System › Protocol Metadata and paste it below, or give its URL." },
        new("oidc", "Another OpenID Connect provider", OidcConnectionProtocol.ProtocolName,
        [
            "Register a web application (confidential client) for Tessera at your identity provider, using the authorization code flow.",
            "Add the redirect URI below exactly as written.",
            "Allow the scopes openid, email and profile; copy the client ID and client secret into the form below.",
        ])
        { Where = "The issuer is the URL your provider's /.well-known/openid-configuration document lives under." },
        new("saml", "Another SAML 2.0 provider", SamlConnectionProtocol.ProtocolName,
        [
            "Register Tessera as a service provider at your identity provider: import the SP metadata URL below, or enter the ACS URL (HTTP-POST binding) and the SP entity ID by hand.",
            "Send a persistent NameID and the attributes email, givenName and surname.",
            "Paste your identity provider's metadata below (XML or its URL), or enter its entity ID, single sign-on URL and signing certificate.",
        ])
        { Where = "Your identity provider publishes its metadata as XML, often at a URL ending in /metadata." },
    ];

    public static IdentityProviderGuide? Find(string? key) => All.FirstOrDefault(g => string.Equals(g.Key, key, StringComparison.Ordinal));
}
