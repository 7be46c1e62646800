namespace Tessera.Directory;

/// <summary>
/// What Tessera's SCIM service supports: the User schema with the enterprise extension and the Group schema
/// (RFC 7643 §4, §8.7.1), less what an identity broker has no use for (passwords: people sign in upstream).
/// </summary>
public static class ScimSchemas
{
    public const string UserUrn = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string EnterpriseUserUrn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    public const string GroupUrn = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string ListResponseUrn = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    public const string PatchOpUrn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    public const string ErrorUrn = "urn:ietf:params:scim:api:messages:2.0:Error";
    public const string ServiceProviderConfigUrn = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
    public const string ResourceTypeUrn = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
    public const string SchemaUrn = "urn:ietf:params:scim:schemas:core:2.0:Schema";

    // RFC 7643 §3.1: present on every resource, defined outside any schema.
    public static readonly ScimAttribute Id = new("id")
    {
        CaseExact = true,
        Mutability = ScimMutability.ReadOnly,
        Returned = ScimReturned.Always,
        Uniqueness = ScimUniqueness.Server,
        Description = "Unique identifier of the resource, assigned by Tessera.",
    };

    public static readonly ScimAttribute ExternalId = new("externalId")
    {
        CaseExact = true,
        Description = "The identifier the provisioning client uses for the resource.",
    };

    public static readonly ScimAttribute Meta = new("meta", ScimType.Complex)
    {
        Mutability = ScimMutability.ReadOnly,
        SubAttributes =
        [
            new("resourceType") { CaseExact = true, Mutability = ScimMutability.ReadOnly },
            new("created", ScimType.DateTime) { Mutability = ScimMutability.ReadOnly },
            new("lastModified", ScimType.DateTime) { Mutability = ScimMutability.ReadOnly },
            new("location", ScimType.Reference) { CaseExact = true, Mutability = ScimMutability.ReadOnly, ReferenceTypes = ["uri"] },
            new("version") { CaseExact = true, Mutability = ScimMutability.ReadOnly },
        ],
    };

    public static readonly IReadOnlyList<ScimAttribute> Common = [Id, ExternalId, Meta];

    private static ScimAttribute MultiValue(string name, string description, IReadOnlyList<string> types, ScimType valueType = ScimType.String) =>
        new(name, ScimType.Complex)
        {
            MultiValued = true,
            Description = description,
            SubAttributes =
            [
                new("value", valueType) { ReferenceTypes = valueType == ScimType.Reference ? ["external"] : [] },
                new("display"),
                new("type") { CanonicalValues = types },
                new("primary", ScimType.Boolean),
            ],
        };

    public static readonly ScimSchema User = new(UserUrn, "User", "User Account",
    [
        new("userName")
        {
            Required = true, Uniqueness = ScimUniqueness.Server,
            Description = "Unique identifier for the user within the organization, usually the sign-in name or email address.",
        },
        new("name", ScimType.Complex)
        {
            Description = "The components of the user's name.",
            SubAttributes =
            [
                new("formatted"), new("familyName"), new("givenName"), new("middleName"),
                new("honorificPrefix"), new("honorificSuffix"),
            ],
        },
        new("displayName"),
        new("nickName"),
        new("profileUrl", ScimType.Reference) { ReferenceTypes = ["external"] },
        new("title"),
        new("userType"),
        new("preferredLanguage"),
        new("locale"),
        new("timezone"),
        new("active", ScimType.Boolean) { Description = "Whether the user may sign in and hold tokens. False deprovisions the user." },
        MultiValue("emails", "Email addresses of the user.", ["work", "home", "other"]),
        MultiValue("phoneNumbers", "Phone numbers of the user.", ["work", "home", "mobile", "fax", "pager", "other"]),
        MultiValue("ims", "Instant messaging addresses of the user.", ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
        MultiValue("photos", "URLs of photos of the user.", ["photo", "thumbnail"], ScimType.Reference),
        new("addresses", ScimType.Complex)
        {
            MultiValued = true,
            Description = "Physical mailing addresses of the user.",
            SubAttributes =
            [
                new("formatted"), new("streetAddress"), new("locality"), new("region"), new("postalCode"), new("country"),
                new("type") { CanonicalValues = ["work", "home", "other"] },
                new("primary", ScimType.Boolean),
            ],
        },
        new("groups", ScimType.Complex)
        {
            MultiValued = true, Mutability = ScimMutability.ReadOnly,
            Description = "The groups the user belongs to, changed through the Group resource.",
            SubAttributes =
            [
                new("value") { Mutability = ScimMutability.ReadOnly },
                new("$ref", ScimType.Reference) { Mutability = ScimMutability.ReadOnly, ReferenceTypes = ["Group"] },
                new("display") { Mutability = ScimMutability.ReadOnly },
                new("type") { Mutability = ScimMutability.ReadOnly, CanonicalValues = ["direct"] },
            ],
        },
        MultiValue("entitlements", "Entitlements of the user.", []),
        MultiValue("roles", "Roles of the user.", []),
        MultiValue("x509Certificates", "Certificates of the user (base64 DER).", [], ScimType.Binary),
    ]);

    public static readonly ScimSchema EnterpriseUser = new(EnterpriseUserUrn, "EnterpriseUser", "Enterprise User",
    [
        new("employeeNumber"),
        new("costCenter"),
        new("organization"),
        new("division"),
        new("department"),
        new("manager", ScimType.Complex)
        {
            SubAttributes =
            [
                new("value"),
                new("$ref", ScimType.Reference) { ReferenceTypes = ["User"] },
                new("displayName") { Mutability = ScimMutability.ReadOnly },
            ],
        },
    ]);

    public static readonly ScimSchema Group = new(GroupUrn, "Group", "Group",
    [
        new("displayName")
        {
            Required = true, Uniqueness = ScimUniqueness.Server,
            Description = "The group's name, unique within the organization; mapping rules can match it.",
        },
        new("members", ScimType.Complex)
        {
            MultiValued = true,
            Description = "The users in the group.",
            SubAttributes =
            [
                new("value") { Mutability = ScimMutability.Immutable, CaseExact = true },
                new("$ref", ScimType.Reference) { Mutability = ScimMutability.Immutable, ReferenceTypes = ["User"] },
                new("display") { Mutability = ScimMutability.Immutable },
                new("type") { Mutability = ScimMutability.Immutable, CanonicalValues = ["User"] },
            ],
        },
    ]);

    /// <summary>
    /// Schema URNs that a provisioning client lists on a resource without sending attributes of theirs; they are
    /// passed over rather than refused. Entra ID lists Microsoft's ADSCIM Group schema on every group it creates.
    /// </summary>
    public static readonly IReadOnlySet<string> IgnoredUrns = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
    };

    public static readonly ScimResourceType UserType = new("User", "/Users", "User Account", User, [EnterpriseUser]);
    public static readonly ScimResourceType GroupType = new("Group", "/Groups", "Group", Group, []);

    public static readonly IReadOnlyList<ScimResourceType> ResourceTypes = [UserType, GroupType];
    public static readonly IReadOnlyList<ScimSchema> All = [User, EnterpriseUser, Group];
}
