using System.Xml;

namespace Tessera.Saml;

/// <summary>
/// The only way SAML XML is parsed: no DTD (so no entities, no XXE, no entity expansion), no resolver, a bound on
/// characters, whitespace preserved (signatures cover it). A DTD is an error, not something to skip.
/// </summary>
public static class SecureXml
{
    public static XmlReaderSettings ReaderSettings(int maxCharacters) => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = maxCharacters,
        IgnoreProcessingInstructions = true,
        CloseInput = true,
    };

    /// <summary>Parses a whole document; the outcome says why it was refused.</summary>
    public static (XmlDocument? Document, SamlFailure? Failure) Load(byte[] xml, int maxCharacters)
    {
        try
        {
            var document = NewDocument();
            using var reader = XmlReader.Create(new MemoryStream(xml), ReaderSettings(maxCharacters));
            document.Load(reader);
            return (document, null);
        }
        catch (XmlException exception) when (exception.Message.Contains("DTD", StringComparison.OrdinalIgnoreCase))
        {
            return (null, new SamlFailure(SamlRules.Dtd, "The document has a DTD; DTDs are prohibited."));
        }
        catch (XmlException exception) when (exception.Message.Contains("maximum", StringComparison.OrdinalIgnoreCase))
        {
            return (null, new SamlFailure(SamlRules.Size, "The document is larger than allowed."));
        }
        catch (XmlException)
        {
            return (null, new SamlFailure(SamlRules.Malformed, "The document is not well-formed XML."));
        }
    }

    /// <summary>Parses an element (decrypted content) in the namespace scope of the element that carried it.</summary>
    public static XmlElement? LoadFragment(string xml, XmlElement context, int maxCharacters)
    {
        var document = NewDocument();
        var namespaces = new XmlNamespaceManager(document.NameTable);
        for (XmlNode? node = context; node is XmlElement element; node = node.ParentNode)
        {
            foreach (XmlAttribute attribute in element.Attributes)
            {
                if (attribute.Prefix == "xmlns" && namespaces.LookupNamespace(attribute.LocalName) is null)
                {
                    namespaces.AddNamespace(attribute.LocalName, attribute.Value);
                }
                else if (attribute.Name == "xmlns" && namespaces.DefaultNamespace.Length == 0)
                {
                    namespaces.AddNamespace(string.Empty, attribute.Value);
                }
            }
        }

        var settings = ReaderSettings(maxCharacters);
        settings.ConformanceLevel = ConformanceLevel.Fragment;
        using var reader = XmlReader.Create(new StringReader(xml), settings, new XmlParserContext(document.NameTable, namespaces, null, XmlSpace.Preserve));
        var root = document.ReadNode(reader);
        if (root is not XmlElement element2)
        {
            return null;
        }

        document.AppendChild(element2);
        // Nothing else may follow the one element.
        while (reader.Read())
        {
            if (reader.NodeType is not (XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace or XmlNodeType.Comment))
            {
                return null;
            }
        }

        return element2;
    }

    public static XmlDocument NewDocument() => new() { PreserveWhitespace = true, XmlResolver = null };
}
