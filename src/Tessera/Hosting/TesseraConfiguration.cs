namespace Tessera.Hosting;

/// <summary>
/// The validated configuration in force. A reload replaces it whole, and only when the new file passes every
/// check; a refused file leaves the running configuration untouched.
/// </summary>
public sealed class TesseraConfiguration
{
    private volatile TesseraOptions _current;

    public TesseraConfiguration(TesseraOptions initial, string? file = null)
    {
        _current = initial;
        File = file;
    }

    public string? File { get; }

    public TesseraOptions Current => _current;

    /// <summary>Raised after a new configuration took effect.</summary>
    public event Action<TesseraOptions>? Changed;

    public void Replace(TesseraOptions options)
    {
        _current = options;
        Changed?.Invoke(options);
    }
}
