using System.Text;
using System.Xml;

namespace Tessera.Saml;

/// <summary>
/// Exclusive XML Canonicalization 1.0 without comments (http://www.w3.org/2001/10/xml-exc-c14n#) of one element
/// subtree, straight from the parsed DOM: no copy of the document, no second parse. A namespace declaration is
/// rendered where it is visibly used (or listed in InclusiveNamespaces) and not already rendered by an output
/// ancestor with the same value; attributes are sorted by namespace URI then local name; comments are dropped.
/// </summary>
public static class ExclusiveCanonicalizer
{
    private const string XmlNamespace = "http://www.w3.org/XML/1998/namespace";
    private const string XmlnsNamespace = "http://www.w3.org/2000/xmlns/";

    /// <summary>
    /// The canonical UTF-8 octets of <paramref name="apex"/>, leaving out <paramref name="excluded"/> and its subtree
    /// (the enveloped-signature transform). <paramref name="inclusivePrefixes"/> are handled as in inclusive
    /// canonicalization (<c>#default</c> names the default namespace).
    /// </summary>
    public static byte[] Canonicalize(XmlElement apex, XmlElement? excluded = null, IReadOnlyCollection<string>? inclusivePrefixes = null)
    {
        var output = new StringBuilder(4096);
        WriteElement(output, apex, excluded, inclusivePrefixes ?? [], []);
        return Encoding.UTF8.GetBytes(output.ToString());
    }

    private static void WriteElement(StringBuilder output, XmlElement element, XmlElement? excluded, IReadOnlyCollection<string> inclusive, Dictionary<string, string> renderedAbove)
    {
        // Namespaces this element uses visibly: its own, and its prefixed attributes'.
        var needed = new List<(string Prefix, string Uri)>(2) { (element.Prefix, element.NamespaceURI) };
        var attributes = new List<XmlAttribute>(element.Attributes.Count);
        foreach (XmlAttribute attribute in element.Attributes)
        {
            if (attribute.NamespaceURI == XmlnsNamespace)
            {
                continue;
            }

            attributes.Add(attribute);
            if (attribute.Prefix.Length > 0 && attribute.NamespaceURI != XmlNamespace)
            {
                Need(needed, attribute.Prefix, attribute.NamespaceURI);
            }
        }

        foreach (var listed in inclusive)
        {
            var prefix = listed == "#default" ? "" : listed;
            if (element.GetNamespaceOfPrefix(prefix) is { } uri && (uri.Length > 0 || prefix.Length == 0))
            {
                Need(needed, prefix, uri);
            }
        }

        // Namespace nodes in order of their local name (the prefix); the default namespace, with none, first.
        needed.Sort(static (a, b) => string.CompareOrdinal(a.Prefix, b.Prefix));
        Dictionary<string, string>? rendered = null;
        output.Append('<').Append(element.Name);
        foreach (var (prefix, uri) in needed)
        {
            var above = renderedAbove.TryGetValue(prefix, out var value) ? value : "";
            if (above == uri || prefix == "xml")
            {
                continue; // already in effect (for the default namespace, "" is in effect at the apex)
            }

            output.Append(prefix.Length == 0 ? " xmlns=\"" : " xmlns:").Append(prefix.Length == 0 ? "" : prefix + "=\"");
            AppendAttributeValue(output, uri);
            output.Append('"');
            rendered ??= new Dictionary<string, string>(renderedAbove, StringComparer.Ordinal);
            rendered[prefix] = uri;
        }

        attributes.Sort(static (a, b) =>
        {
            var byNamespace = string.CompareOrdinal(a.NamespaceURI, b.NamespaceURI);
            return byNamespace != 0 ? byNamespace : string.CompareOrdinal(a.LocalName, b.LocalName);
        });
        foreach (var attribute in attributes)
        {
            output.Append(' ').Append(attribute.Name).Append("=\"");
            AppendAttributeValue(output, attribute.Value);
            output.Append('"');
        }

        output.Append('>');
        foreach (XmlNode child in element.ChildNodes)
        {
            switch (child)
            {
                case XmlElement childElement when !ReferenceEquals(childElement, excluded):
                    WriteElement(output, childElement, excluded, inclusive, rendered ?? renderedAbove);
                    break;
                case XmlText or XmlWhitespace or XmlSignificantWhitespace or XmlCDataSection:
                    AppendText(output, child.Value!);
                    break;
                case XmlProcessingInstruction instruction:
                    output.Append("<?").Append(instruction.Target);
                    if (instruction.Data.Length > 0)
                    {
                        output.Append(' ').Append(instruction.Data);
                    }

                    output.Append("?>");
                    break;
                case XmlEntityReference:
                    throw new XmlException("Entity references cannot be canonicalized here.");
            }
        }

        output.Append("</").Append(element.Name).Append('>');
    }

    private static void Need(List<(string Prefix, string Uri)> needed, string prefix, string uri)
    {
        foreach (var (known, _) in needed)
        {
            if (known == prefix)
            {
                return;
            }
        }

        needed.Add((prefix, uri));
    }

    private static void AppendText(StringBuilder output, string text)
    {
        foreach (var c in text)
        {
            _ = c switch
            {
                '&' => output.Append("&amp;"),
                '<' => output.Append("&lt;"),
                '>' => output.Append("&gt;"),
                '\r' => output.Append("&#xD;"),
                _ => output.Append(c),
            };
        }
    }

    private static void AppendAttributeValue(StringBuilder output, string value)
    {
        foreach (var c in value)
        {
            _ = c switch
            {
                '&' => output.Append("&amp;"),
                '<' => output.Append("&lt;"),
                '"' => output.Append("&quot;"),
                '\t' => output.Append("&#x9;"),
                '\n' => output.Append("&#xA;"),
                '\r' => output.Append("&#xD;"),
                _ => output.Append(c),
            };
        }
    }
}
