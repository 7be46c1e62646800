using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;
using Tessera.Saml.Tests.Infrastructure;
using static Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider;

namespace Tessera.Saml.Tests;

/// <summary>Tessera's exclusive canonicalization gives the same octets as the framework's implementation.</summary>
public sealed class ExclusiveCanonicalizerTests
{
    public static TheoryData<string> Documents() =>
    [
        Build(new SamlResponseSpec()).OuterXml,
        Signed(Build(new SamlResponseSpec { NameIdXml = "a&amp;b &lt;c&gt; \"q\" &#13;" })).OuterXml,
        $"""<r xmlns="urn:default" xmlns:a="urn:a" xmlns:unused="urn:unused"><a:x a:attr="1" b="2&#9;&#10;&quot;" xml:lang="en"><y xmlns=""><z xmlns="urn:z">t</z></y></a:x><![CDATA[ <cdata> & ]]></r>""",
        $"""<p:r xmlns:p="urn:p" xmlns:q="urn:q"><p:c q:b="2" a="1" p:a="0"><q:d xmlns:q="urn:q2">x</q:d></p:c><!-- gone --></p:r>""",
        $"""<saml:Assertion xmlns:saml="{SamlNames.Assertion}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><saml:AttributeValue xsi:type="xs:string">v</saml:AttributeValue></saml:Assertion>""",
    ];

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_element_canonicalizes_as_the_framework_does(string xml)
    {
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(xml);

        foreach (var element in document.DocumentElement!.GetElementsByTagName("*").OfType<XmlElement>().Prepend(document.DocumentElement))
        {
            Assert.Equal(Framework(element, null), Encoding.UTF8.GetString(ExclusiveCanonicalizer.Canonicalize(element)));
        }
    }

    [Fact]
    public void Enveloped_signature_is_left_out_as_the_transform_does()
    {
        var document = Signed(Build(new SamlResponseSpec()));
        var assertion = Assertion(document);
        var signature = (XmlElement)assertion.GetElementsByTagName("Signature", SamlNames.XmlDsig)[0]!;

        Assert.Equal(Framework(assertion, signature), Encoding.UTF8.GetString(ExclusiveCanonicalizer.Canonicalize(assertion, signature)));
    }

    [Fact]
    public void Inclusive_prefixes_are_rendered_where_in_scope()
    {
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml("""<r xmlns:xs="urn:xs" xmlns:o="urn:o"><v t="xs:string">1</v></r>""");
        var value = (XmlElement)document.DocumentElement!.FirstChild!;

        var canonical = Encoding.UTF8.GetString(ExclusiveCanonicalizer.Canonicalize(value, null, ["xs"]));

        Assert.Equal("""<v xmlns:xs="urn:xs" t="xs:string">1</v>""", canonical);
        // The framework, given the same element with the declarations in scope written on it.
        var standalone = new XmlDocument { PreserveWhitespace = true };
        standalone.LoadXml("""<v xmlns:xs="urn:xs" xmlns:o="urn:o" t="xs:string">1</v>""");
        Assert.Equal(canonical, Framework(standalone.DocumentElement!, null, new XmlDsigExcC14NTransform("xs")));
    }

    private static XmlDocument Signed(XmlDocument document)
    {
        Sign(Assertion(document));
        return document;
    }

    /// <summary>The framework's transform over a standalone copy of the element (the copy declares what it uses).</summary>
    private static string Framework(XmlElement element, XmlElement? excluded, XmlDsigExcC14NTransform? transform = null)
    {
        var copy = new XmlDocument { PreserveWhitespace = true };
        copy.LoadXml(element.OuterXml);
        if (excluded is not null)
        {
            var signature = (XmlElement)copy.GetElementsByTagName(excluded.LocalName, excluded.NamespaceURI)[0]!;
            signature.ParentNode!.RemoveChild(signature);
        }

        transform ??= new XmlDsigExcC14NTransform();
        transform.LoadInput(copy);
        using var reader = new StreamReader((Stream)transform.GetOutput(typeof(Stream)), Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
