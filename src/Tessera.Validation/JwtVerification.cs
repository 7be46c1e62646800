using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Validation;

/// <summary>A JWT whose signature and registered claims hold, or the rule it broke (<see cref="TokenFailures"/>).</summary>
internal sealed record JwtVerification(JsonWebToken? Token, TokenValidationResult? Result, string? Failure, string? Description)
{
    public bool Succeeded => Token is not null;

    public static JwtVerification Fail(string failure, string description) => new(null, null, failure, description);
}
