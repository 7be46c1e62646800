namespace Tessera.Pages;

/// <summary>What an error page shows: a protocol error code, a description safe to display, and maybe a way back.</summary>
public sealed record ErrorView(string Title, string Error, string? Description, string? RetryUrl = null)
{
    /// <summary>The id of the audit row that records this failure, for the user to quote.</summary>
    public string? Reference { get; init; }
}
