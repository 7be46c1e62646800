using System.Globalization;
using System.Linq.Expressions;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Tessera.Directory;

/// <summary>
/// The value side of one comparison (RFC 7644 §3.4.2.2), checked against the attribute's type and turned into a
/// condition on the stored form: a normalized key (<see cref="ScimValueIndex.Key"/>), an id, a timestamp or a flag.
/// <c>ne</c> and <c>pr</c> never reach here: <c>ne</c> is translated as <c>not eq</c> and <c>pr</c> depends on where
/// the attribute is stored.
/// </summary>
internal static class ScimComparison
{
    /// <summary>
    /// A condition on a normalized key, compared byte-wise on both providers. On PostgreSQL gt/ge/lt/le name the "C"
    /// collation, whatever the database's default. On SQLite, whose LIKE ignores ASCII case, sw and ew use GLOB
    /// (case-sensitive, and a prefix GLOB can use the index) with its three wildcards escaped.
    /// </summary>
    public static Expression<Func<string, bool>> OnKey(ScimFilterAttribute attribute, ScimOperator op, ScimValue value, bool postgres)
    {
        var target = attribute.Target;
        var key = target.Type switch
        {
            ScimType.Boolean => Flag(attribute, op, value) ? "true" : "false",
            ScimType.DateTime => ScimValueIndex.Time(Time(attribute, op, value)),
            _ => ScimValueIndex.Key(target, Text(attribute, value))!,
        };

        return op switch
        {
            ScimOperator.Eq => k => k == key,
            ScimOperator.Co => k => k.Contains(key),
            ScimOperator.Sw when postgres => k => k.StartsWith(key),
            ScimOperator.Ew when postgres => k => k.EndsWith(key),
            ScimOperator.Sw => GlobPrefix(key),
            ScimOperator.Ew => GlobSuffix(key),
            ScimOperator.Gt when postgres => k => string.Compare(EF.Functions.Collate(k, "C"), key) > 0,
            ScimOperator.Ge when postgres => k => string.Compare(EF.Functions.Collate(k, "C"), key) >= 0,
            ScimOperator.Lt when postgres => k => string.Compare(EF.Functions.Collate(k, "C"), key) < 0,
            ScimOperator.Le when postgres => k => string.Compare(EF.Functions.Collate(k, "C"), key) <= 0,
            ScimOperator.Gt => k => string.Compare(k, key) > 0,
            ScimOperator.Ge => k => string.Compare(k, key) >= 0,
            ScimOperator.Lt => k => string.Compare(k, key) < 0,
            ScimOperator.Le => k => string.Compare(k, key) <= 0,
            _ => throw NotApplicable(attribute, op),
        };
    }

    /// <summary>A condition on a nullable string column holding a normalized key; a missing value matches nothing.</summary>
    public static Expression<Func<string?, bool>> OnNullableKey(ScimFilterAttribute attribute, ScimOperator op, ScimValue value, bool postgres)
    {
        var condition = OnKey(attribute, op, value, postgres);
        Expression<Func<string?, bool>> present = k => k != null;
        return ScimPredicate.And(present, ScimPredicate.On<string?, string>(k => k!, condition));
    }

    /// <summary>
    /// A condition on an id column. Ids are opaque (RFC 7643 §3.1): only equality applies, and an id that is not one
    /// Tessera could have issued matches nothing rather than being an error.
    /// </summary>
    public static Expression<Func<Guid, bool>> OnId(ScimFilterAttribute attribute, ScimOperator op, ScimValue value)
    {
        if (op != ScimOperator.Eq)
        {
            throw NotApplicable(attribute, op);
        }

        if (!Guid.TryParse(Text(attribute, value), out var id))
        {
            return _ => false;
        }

        return i => i == id;
    }

    /// <summary>A condition on a timestamp column (meta.created, meta.lastModified).</summary>
    public static Expression<Func<DateTime, bool>> OnTime(ScimFilterAttribute attribute, ScimOperator op, ScimValue value)
    {
        var time = Time(attribute, op, value);
        return op switch
        {
            ScimOperator.Eq => t => t == time,
            ScimOperator.Gt => t => t > time,
            ScimOperator.Ge => t => t >= time,
            ScimOperator.Lt => t => t < time,
            ScimOperator.Le => t => t <= time,
            _ => throw NotApplicable(attribute, op),
        };
    }

    /// <summary>A condition on a boolean column (active).</summary>
    public static Expression<Func<bool, bool>> OnFlag(ScimFilterAttribute attribute, ScimOperator op, ScimValue value)
    {
        var flag = Flag(attribute, op, value);
        return b => b == flag;
    }

    /// <summary>A comparison with a value every resource has alike (meta.resourceType, groups.type): decided here.</summary>
    public static bool OnConstant(ScimFilterAttribute attribute, string constant, ScimOperator op, ScimValue value)
    {
        var stored = ScimValueIndex.Key(attribute.Target, constant)!;
        var key = ScimValueIndex.Key(attribute.Target, Text(attribute, value))!;
        return op switch
        {
            ScimOperator.Eq => stored == key,
            ScimOperator.Co => stored.Contains(key, StringComparison.Ordinal),
            ScimOperator.Sw => stored.StartsWith(key, StringComparison.Ordinal),
            ScimOperator.Ew => stored.EndsWith(key, StringComparison.Ordinal),
            ScimOperator.Gt => string.CompareOrdinal(stored, key) > 0,
            ScimOperator.Ge => string.CompareOrdinal(stored, key) >= 0,
            ScimOperator.Lt => string.CompareOrdinal(stored, key) < 0,
            ScimOperator.Le => string.CompareOrdinal(stored, key) <= 0,
            _ => throw NotApplicable(attribute, op),
        };
    }

    private static Expression<Func<string, bool>> GlobPrefix(string key)
    {
        var pattern = GlobLiteral(key) + "*";
        return k => EF.Functions.Glob(k, pattern);
    }

    private static Expression<Func<string, bool>> GlobSuffix(string key)
    {
        var pattern = "*" + GlobLiteral(key);
        return k => EF.Functions.Glob(k, pattern);
    }

    // In a GLOB pattern "*", "?" and "[" are special; each is literal inside a bracket expression.
    private static string GlobLiteral(string text) =>
        text.Replace("[", "[[]", StringComparison.Ordinal).Replace("*", "[*]", StringComparison.Ordinal).Replace("?", "[?]", StringComparison.Ordinal);

    public static ScimFilterException NotApplicable(ScimFilterAttribute attribute, ScimOperator op) =>
        new($"'{op.ToString().ToLowerInvariant()}' does not apply to {attribute} ({Describe(attribute)})");

    private static string Describe(ScimFilterAttribute attribute) => attribute.Target.Type switch
    {
        ScimType.Boolean => "a boolean: eq, ne and pr apply",
        ScimType.DateTime => "a date-time: eq, ne, gt, ge, lt, le and pr apply",
        _ when attribute.Key is "id" or "groups.value" or "members.value" => "an id: eq, ne and pr apply",
        _ => "a " + attribute.Target.Type.ToString().ToLowerInvariant(),
    };

    // Numbers are taken as their text: no attribute Tessera supports is numeric, and some clients leave quotes off ids.
    private static string Text(ScimFilterAttribute attribute, ScimValue value) => value.Kind switch
    {
        JsonValueKind.String => value.Text!,
        JsonValueKind.Number => value.Number.ToString(CultureInfo.InvariantCulture),
        _ => throw new ScimFilterException($"{attribute} is compared with a string, not {value}"),
    };

    // RFC 7643 §2.3.2 booleans are JSON true/false; the strings "True"/"False" are accepted too, as Entra ID sends them.
    private static bool Flag(ScimFilterAttribute attribute, ScimOperator op, ScimValue value)
    {
        if (op != ScimOperator.Eq)
        {
            throw NotApplicable(attribute, op);
        }

        return value.Kind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(value.Text, out var flag) => flag,
            _ => throw new ScimFilterException($"{attribute} is a boolean: compare it with true or false, not {value}"),
        };
    }

    private static DateTime Time(ScimFilterAttribute attribute, ScimOperator op, ScimValue value)
    {
        if (op is ScimOperator.Co or ScimOperator.Sw or ScimOperator.Ew)
        {
            throw NotApplicable(attribute, op);
        }

        return value.Kind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.Text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.UtcDateTime
            : throw new ScimFilterException($"{attribute} is a date-time: compare it with one such as \"2011-05-13T04:42:34Z\", not {value}");
    }
}
