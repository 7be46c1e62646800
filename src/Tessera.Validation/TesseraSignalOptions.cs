namespace Tessera.Validation;

/// <summary>The endpoint Tessera pushes Security Event Tokens to (RFC 8935), mounted by the library.</summary>
public sealed class TesseraSignalOptions
{
    /// <summary>Whether the receiver is mounted at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Path of the receiver.</summary>
    public string Path { get; set; } = "/tessera/signals";

    /// <summary>
    /// The exact <c>Authorization</c> header value Tessera sends (its receiver entry's Authorization); null accepts
    /// requests without one, which is safe only because every SET is signature-checked.
    /// </summary>
    public string? Authorization { get; set; }

    /// <summary>The <c>aud</c> pushed SETs must carry; null means the API's <see cref="TesseraValidationOptions.Audience"/>.</summary>
    public string? Audience { get; set; }

    /// <summary>Largest request body accepted.</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>How long a SET's <c>jti</c> is remembered to refuse replays.</summary>
    public TimeSpan ReplayRetention { get; set; } = TimeSpan.FromHours(24);
}
