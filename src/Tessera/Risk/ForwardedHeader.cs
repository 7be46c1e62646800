using System.Net;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Tessera.Risk;

/// <summary>
/// Reads the <c>for</c> parameters of RFC 7239's <c>Forwarded</c> header into the <c>X-Forwarded-For</c> list that
/// ASP.NET Core's forwarded-headers middleware walks, so trust is still decided there, hop by hop from the right.
/// A node that is not an address (<c>unknown</c>, an obfuscated <c>_name</c>, or anything malformed) stays in the list
/// as <c>unknown</c>, where the walk stops: nothing to its left is believed.
/// </summary>
public static class ForwardedHeader
{
    public const string Name = "Forwarded";
    private const string Unknown = "unknown";

    /// <summary>The <c>for</c> nodes of every element, leftmost (the client) first, as an X-Forwarded-For value; null when none.</summary>
    public static string? ToForwardedFor(StringValues values)
    {
        var nodes = new List<string>();
        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }

            foreach (var element in Split(value, ','))
            {
                string? node = null;
                foreach (var pair in Split(element, ';'))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    if (equals > 0 && pair[..equals].Trim().Equals("for", StringComparison.OrdinalIgnoreCase))
                    {
                        node = Address(Unquote(pair[(equals + 1)..].Trim()));
                    }
                }

                // An element without a for= is a hop that did not say whom it forwarded for.
                nodes.Add(node ?? Unknown);
            }
        }

        return nodes.Count == 0 ? null : string.Join(", ", nodes);
    }

    /// <summary>A node as an address without its port (<c>192.0.2.43:47011</c>, <c>[2001:db8::17]:4711</c>), or <c>unknown</c>.</summary>
    private static string Address(string? node)
    {
        if (string.IsNullOrEmpty(node))
        {
            return Unknown;
        }

        if (node[0] == '[')
        {
            var close = node.IndexOf(']', StringComparison.Ordinal);
            var port = close < 0 ? "" : node[(close + 1)..];
            return close > 0 && (port.Length == 0 || port[0] == ':') && IPAddress.TryParse(node[1..close], out var v6)
                && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? v6.ToString()
                : Unknown;
        }

        var colon = node.IndexOf(':', StringComparison.Ordinal);
        var host = colon < 0 ? node : node[..colon];
        return IPAddress.TryParse(host, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && host.Count(c => c == '.') == 3
            ? v4.ToString()
            : Unknown;
    }

    /// <summary>A token as it is, a quoted-string without its quotes and escapes; null when a quote is left open.</summary>
    private static string? Unquote(string value)
    {
        if (value.Length == 0 || value[0] != '"')
        {
            return value;
        }

        var text = new StringBuilder();
        for (var i = 1; i < value.Length; i++)
        {
            switch (value[i])
            {
                case '\\' when i + 1 < value.Length:
                    text.Append(value[++i]);
                    break;
                case '"':
                    return i == value.Length - 1 ? text.ToString() : null;
                default:
                    text.Append(value[i]);
                    break;
            }
        }

        return null;
    }

    /// <summary>Splits at <paramref name="separator"/> outside quoted strings.</summary>
    private static IEnumerable<string> Split(string value, char separator)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && quoted)
            {
                i++;
            }
            else if (value[i] == '"')
            {
                quoted = !quoted;
            }
            else if (value[i] == separator && !quoted)
            {
                yield return value[start..i];
                start = i + 1;
            }
        }

        yield return value[start..];
    }
}
