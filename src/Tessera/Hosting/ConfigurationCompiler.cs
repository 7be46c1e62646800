using Tessera.Federation;

namespace Tessera.Hosting;

/// <summary>
/// Turns declared configuration into either every error it has, each with its JSON path, or one immutable
/// <see cref="TesseraModel"/>: checked once, each connection compiled by its connector's protocol. Start, reload and
/// <c>tessera config validate</c> all go through here, so whatever passes a check also runs.
/// </summary>
public static class ConfigurationCompiler
{
    /// <param name="forServe">Also refuse what only <c>tessera demo</c> may run (the development identity provider).</param>
    public static CompiledConfiguration Compile(TesseraOptions declared, bool forServe = false, string? file = null)
    {
        var errors = TesseraOptionsValidator.Validate(declared).ToList();
        if (forServe && declared.Development.Demo)
        {
            errors.Add(new ConfigurationError("$.Tessera.Development.Demo", "the demo identity provider is for 'tessera demo' only; 'serve' refuses it"));
        }

        if (errors.Any(e => e.Path == "$.Tessera.Issuer"))
        {
            return new CompiledConfiguration(null, errors, file); // connections are compiled under the issuer
        }

        var issuer = new TesseraIssuer(declared.Issuer);
        var organizations = new List<Organization>();
        for (var o = 0; o < declared.Organizations.Count; o++)
        {
            var organization = new Organization(declared.Organizations[o]);
            var connections = new List<Connection>();
            for (var c = 0; c < organization.Options.Connections.Count; c++)
            {
                var options = organization.Options.Connections[c];
                if (ConnectionProtocols.Find(options.Protocol) is not { } protocol)
                {
                    continue; // refused by the validator already
                }

                var compilation = new ConnectionCompilation(declared, options, $"$.Tessera.Organizations[{o}].Connections[{c}]", issuer,
                    (path, reason) => errors.Add(new ConfigurationError(path, reason)));
                if (protocol.Compile(compilation) is { } settings)
                {
                    connections.Add(new Connection(organization, options, protocol.CallbackPath(options), settings));
                }
            }

            organization.Connections = connections;
            organizations.Add(organization);
        }

        return errors.Count > 0
            ? new CompiledConfiguration(null, errors, file)
            : new CompiledConfiguration(new TesseraModel(declared, issuer, organizations), [], file);
    }

    /// <summary>Reads a file (<see cref="ConfigurationLoader"/>) and compiles it.</summary>
    public static CompiledConfiguration CompileFile(string path, bool forServe = false, IDictionary<string, string?>? overrides = null, Func<string, string?>? environment = null)
    {
        var loaded = ConfigurationLoader.LoadFile(path, overrides, environment);
        return loaded.Succeeded ? Compile(loaded.Options!, forServe, path) : new CompiledConfiguration(null, loaded.Errors, path);
    }
}
