namespace Tessera.Hosting;

/// <summary>
/// The compiled configuration in force. A reload replaces it whole, and only when the new configuration compiles;
/// a refused one leaves the running model untouched. Readers take <see cref="Current"/> once per request.
/// </summary>
public sealed class TesseraConfiguration
{
    private volatile TesseraModel _current;

    public TesseraConfiguration(TesseraModel initial, string? file = null)
    {
        _current = initial;
        File = file;
    }

    public string? File { get; }

    public TesseraModel Current => _current;

    /// <summary>Raised after a new model took effect.</summary>
    public event Action<TesseraModel>? Changed;

    public void Replace(TesseraModel model)
    {
        _current = model;
        Changed?.Invoke(model);
    }
}
