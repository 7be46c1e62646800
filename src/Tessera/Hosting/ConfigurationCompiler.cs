using Tessera.Federation;

namespace Tessera.Hosting;

/// <summary>
/// Turns the declared configuration (the file) and the managed configuration (the database) into either every error
/// it has, each with its JSON path, or one immutable <see cref="TesseraModel"/>: checked once, each connection compiled
/// by its connector's protocol. Start, reload, every Admin API change and <c>tessera config validate</c> all go
/// through here, so whatever passes a check also runs.
/// </summary>
public static class ConfigurationCompiler
{
    /// <param name="forServe">Also refuse what only <c>tessera demo</c> may run (the development identity provider).</param>
    public static CompiledConfiguration Compile(TesseraOptions declared, bool forServe = false, string? file = null) =>
        Compile(declared, ManagedConfiguration.Empty, forServe, file);

    /// <summary>
    /// The file and the managed resources together. The file's errors refuse everything; a managed resource that does
    /// not compile (say the file now claims its domain) is left out of the model and reported in
    /// <see cref="TesseraModel.Problems"/>, so a node always starts on a file that is valid by itself.
    /// </summary>
    public static CompiledConfiguration Compile(TesseraOptions declared, ManagedConfiguration managed, bool forServe = false, string? file = null)
    {
        if (FileOnlyErrors(declared) is { Count: > 0 } fileErrors)
        {
            return new CompiledConfiguration(null, fileErrors, file);
        }

        var excluded = new HashSet<(string Kind, string Id)>();
        var problems = new List<ManagedProblem>();
        while (true)
        {
            var merge = ConfigurationMerge.Create(declared, managed, excluded);
            problems.AddRange(merge.Unplaced.Where(p => excluded.Add((p.Kind, p.Id))));
            var (model, errors) = CompileMerged(declared, managed, merge, forServe);
            if (model is not null)
            {
                model.Problems = problems;
                return new CompiledConfiguration(model, [], file);
            }

            var attributed = errors.Select(e => (Error: e, Owner: merge.Owner(e.Path))).ToList();
            if (attributed.Any(a => a.Owner is null))
            {
                if (!merge.Included.Any())
                {
                    return new CompiledConfiguration(null, errors, file); // the file's own errors
                }

                // An error in the file's part that only the managed resources provoke: the file wins, whole.
                var alone = Compile(declared, ManagedConfiguration.Empty, forServe, file);
                if (!alone.Succeeded)
                {
                    return alone;
                }

                var conflict = attributed.First(a => a.Owner is null).Error;
                alone.Model!.Problems = [.. problems, .. merge.Included.Select(r => new ManagedProblem(r.Kind, r.Id,
                    [new ConfigurationError("$", $"the managed configuration conflicts with the file ({conflict.Path}: {conflict.Reason})")]))];
                alone.Model.Managed = managed;
                return alone;
            }

            foreach (var group in attributed.GroupBy(a => (a.Owner!.Value.Resource.Kind, a.Owner.Value.Resource.Id)))
            {
                excluded.Add(group.Key);
                problems.Add(new ManagedProblem(group.Key.Kind, group.Key.Id, group.Select(a => a.Error with { Path = a.Owner!.Value.RelativePath }).ToList()));
            }
        }
    }

    /// <summary>
    /// Checks a proposed managed configuration strictly, as an Admin API change must pass before it is stored: every
    /// error is returned. An error inside <paramref name="subject"/> carries its path within that resource
    /// (<c>$.Authority</c>); an error elsewhere names the resource it lies in.
    /// </summary>
    public static IReadOnlyList<ConfigurationError> Check(TesseraOptions declared, ManagedConfiguration proposed, (string Kind, string Id)? subject, bool forServe)
    {
        var merge = ConfigurationMerge.Create(declared, proposed, new HashSet<(string, string)>());
        var errors = merge.Unplaced.Where(p => subject is null || (p.Kind, p.Id) == subject.Value).SelectMany(p => p.Errors).ToList();
        var (_, compileErrors) = CompileMerged(declared, proposed, merge, forServe);
        foreach (var error in compileErrors)
        {
            errors.Add(merge.Owner(error.Path) switch
            {
                { } owner when subject is { } s && owner.Resource.Kind == s.Kind && owner.Resource.Id == s.Id => error with { Path = owner.RelativePath },
                { } owner => error with { Reason = $"{owner.Resource.Kind} '{owner.Resource.Id}' would no longer be valid: {error.Reason}" },
                null => error with { Reason = $"the file's configuration would no longer be valid: {error.Reason}" },
            });
        }

        return errors;
    }

    /// <summary>What only the file may get wrong: a managed client's secret is its hash, but a file's must be the secret itself.</summary>
    private static List<ConfigurationError> FileOnlyErrors(TesseraOptions file) =>
        file.Clients.Select((c, i) => (c, i)).Where(x => x.c.ClientSecret is { } secret && Protocol.ClientSecretHasher.IsFastHashFormat(secret))
            .Select(x => new ConfigurationError($"$.Tessera.Clients[{x.i}].ClientSecret", "looks like a stored hash; give the secret itself (it is hashed when stored)"))
            .ToList();

    private static (TesseraModel? Model, List<ConfigurationError> Errors) CompileMerged(TesseraOptions file, ManagedConfiguration managed, ConfigurationMerge merge, bool forServe)
    {
        var declared = merge.Options;
        var errors = TesseraOptionsValidator.Validate(declared).ToList();
        if (forServe && declared.Development.Demo)
        {
            errors.Add(new ConfigurationError("$.Tessera.Development.Demo", "the demo identity provider is for 'tessera demo' only; 'serve' refuses it"));
        }

        if (errors.Any(e => e.Path == "$.Tessera.Issuer"))
        {
            return (null, errors); // connections are compiled under the issuer
        }

        var issuer = new TesseraIssuer(declared.Issuer);
        var organizations = new List<Organization>();
        for (var o = 0; o < declared.Organizations.Count; o++)
        {
            var organization = new Organization(declared.Organizations[o]);
            var connections = new List<Connection>();
            var drafts = new List<Connection>();
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
                    var isDraft = merge.DraftConnections.Contains(options.Id);
                    (isDraft ? drafts : connections).Add(new Connection(organization, options, protocol.CallbackPath(options), settings) { IsDraft = isDraft });
                }
            }

            organization.Connections = connections;
            organization.DraftConnections = drafts;
            organizations.Add(organization);
        }

        return errors.Count > 0 ? (null, errors) : (new TesseraModel(declared, file, managed, merge.Included, issuer, organizations), errors);
    }

    /// <summary>Reads a file (<see cref="ConfigurationLoader"/>) and compiles it.</summary>
    public static CompiledConfiguration CompileFile(string path, bool forServe = false, IDictionary<string, string?>? overrides = null, Func<string, string?>? environment = null)
    {
        var loaded = ConfigurationLoader.LoadFile(path, overrides, environment);
        return loaded.Succeeded ? Compile(loaded.Options!, forServe, path) : new CompiledConfiguration(null, loaded.Errors, path);
    }
}
