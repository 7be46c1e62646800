using System.Globalization;
using System.Text.Json;

namespace Tessera.Directory;

/// <summary>
/// Parses the RFC 7644 §3.4.2.2 filter grammar by recursive descent: comparisons (eq ne co sw ew gt lt ge le pr),
/// <c>and</c> binding tighter than <c>or</c>, <c>not (…)</c>, parentheses, and value paths (<c>emails[type eq "work"]</c>).
/// Keywords and operators are case-insensitive; values are JSON literals. Input is bounded in length, nesting
/// and number of terms, so a hostile filter is refused before it costs anything.
/// </summary>
public static class ScimFilterParser
{
    public const int MaxLength = 4096;
    public const int MaxDepth = 16;
    public const int MaxTerms = 100;

    public static ScimFilter Parse(string filter)
    {
        var parser = new Parser(filter);
        var result = parser.Filter(depth: 0, insideValuePath: false);
        parser.SkipSpaces();
        if (!parser.AtEnd)
        {
            throw parser.Error("unexpected text after the filter");
        }

        return result;
    }

    /// <summary>A PATCH path (RFC 7644 §3.5.2): <c>attrPath</c>, or <c>attrPath[valFilter]</c> optionally followed by <c>.subAttr</c>.</summary>
    public static (ScimAttributePath Path, ScimFilter? Filter, string? SubAttribute) ParsePath(string path)
    {
        var parser = new Parser(path);
        var attribute = parser.AttributePath();
        ScimFilter? filter = null;
        string? sub = null;
        if (parser.TryTake('['))
        {
            if (attribute.SubAttribute is not null)
            {
                throw parser.Error("a value filter follows an attribute, not a sub-attribute");
            }

            filter = parser.Filter(depth: 1, insideValuePath: true);
            parser.SkipSpaces();
            parser.Expect(']');
            if (parser.TryTake('.'))
            {
                sub = parser.Name();
            }
        }

        if (!parser.AtEnd)
        {
            throw parser.Error("unexpected text after the path");
        }

        return (attribute, filter, sub);
    }

    private sealed class Parser
    {
        private readonly string _text;
        private int _position;
        private int _terms;

        public Parser(string text)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new ScimFilterException("The filter is empty.");
            }

            if (text.Length > MaxLength)
            {
                throw new ScimFilterException($"The filter is longer than {MaxLength} characters.");
            }

            _text = text;
        }

        public bool AtEnd => _position >= _text.Length;

        public ScimFilterException Error(string what) =>
            new($"Invalid filter at position {_position + 1}: {what}.");

        /// <summary>FILTER = term *("or" term), term = factor *("and" factor).</summary>
        public ScimFilter Filter(int depth, bool insideValuePath)
        {
            if (depth > MaxDepth)
            {
                throw Error($"nested deeper than {MaxDepth} levels");
            }

            var left = Term(depth, insideValuePath);
            while (TryKeyword("or"))
            {
                left = new ScimFilter.Logical(false, left, Term(depth, insideValuePath));
            }

            return left;
        }

        private ScimFilter Term(int depth, bool insideValuePath)
        {
            var left = Factor(depth, insideValuePath);
            while (TryKeyword("and"))
            {
                left = new ScimFilter.Logical(true, left, Factor(depth, insideValuePath));
            }

            return left;
        }

        private ScimFilter Factor(int depth, bool insideValuePath)
        {
            if (++_terms > MaxTerms)
            {
                throw Error($"more than {MaxTerms} terms");
            }

            SkipSpaces();
            if (TryKeyword("not"))
            {
                SkipSpaces();
                Expect('(');
                var inner = Filter(depth + 1, insideValuePath);
                SkipSpaces();
                Expect(')');
                return new ScimFilter.Not(inner);
            }

            if (TryTake('('))
            {
                var grouped = Filter(depth + 1, insideValuePath);
                SkipSpaces();
                Expect(')');
                return grouped;
            }

            var path = AttributePath();
            if (TryTake('['))
            {
                if (insideValuePath)
                {
                    throw Error("value filters do not nest");
                }

                if (path.SubAttribute is not null)
                {
                    throw Error("a value filter follows an attribute, not a sub-attribute");
                }

                var filter = Filter(depth + 1, insideValuePath: true);
                SkipSpaces();
                Expect(']');
                return new ScimFilter.ValuePath(path, filter);
            }

            var op = Operator();
            return op == ScimOperator.Pr
                ? new ScimFilter.Comparison(path, op, null)
                : new ScimFilter.Comparison(path, op, Value());
        }

        /// <summary>attrPath = [URI ":"] ATTRNAME *1subAttr.</summary>
        public ScimAttributePath AttributePath()
        {
            SkipSpaces();
            var start = _position;
            while (!AtEnd && (char.IsAsciiLetterOrDigit(_text[_position]) || _text[_position] is ':' or '.' or '-' or '_'))
            {
                _position++;
            }

            var token = _text[start.._position];
            if (token.Length == 0)
            {
                throw Error("an attribute name is expected");
            }

            string? schema = null;
            var colon = token.LastIndexOf(':');
            if (colon >= 0)
            {
                schema = token[..colon];
                token = token[(colon + 1)..];
                if (!schema.StartsWith("urn:", StringComparison.OrdinalIgnoreCase) || schema.Length <= 4)
                {
                    throw Error("an attribute is qualified only by a schema URN");
                }
            }

            var parts = token.Split('.');
            if (parts.Length > 2 || !parts.All(IsName))
            {
                throw Error($"'{Short(token)}' is not an attribute name");
            }

            return new ScimAttributePath(schema, parts[0], parts.Length == 2 ? parts[1] : null);
        }

        public string Name()
        {
            var start = _position;
            while (!AtEnd && (char.IsAsciiLetterOrDigit(_text[_position]) || _text[_position] is '-' or '_'))
            {
                _position++;
            }

            var name = _text[start.._position];
            return IsName(name) ? name : throw Error("an attribute name is expected");
        }

        private static bool IsName(string name) =>
            name.Length > 0 && char.IsAsciiLetter(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

        private ScimOperator Operator()
        {
            if (!TakeSpace())
            {
                throw Error("an operator is expected after the attribute");
            }

            var start = _position;
            while (!AtEnd && char.IsAsciiLetter(_text[_position]))
            {
                _position++;
            }

            var word = _text[start.._position].ToLowerInvariant();
            return word switch
            {
                "eq" => ScimOperator.Eq,
                "ne" => ScimOperator.Ne,
                "co" => ScimOperator.Co,
                "sw" => ScimOperator.Sw,
                "ew" => ScimOperator.Ew,
                "gt" => ScimOperator.Gt,
                "lt" => ScimOperator.Lt,
                "ge" => ScimOperator.Ge,
                "le" => ScimOperator.Le,
                "pr" => ScimOperator.Pr,
                _ => throw Error($"'{Short(word)}' is not an operator (eq ne co sw ew gt lt ge le pr)"),
            };
        }

        private ScimValue Value()
        {
            if (!TakeSpace())
            {
                throw Error("a value is expected after the operator");
            }

            if (AtEnd)
            {
                throw Error("a value is expected after the operator");
            }

            if (_text[_position] == '"')
            {
                return ScimValue.String(JsonString());
            }

            var start = _position;
            while (!AtEnd && !char.IsWhiteSpace(_text[_position]) && _text[_position] is not (')' or ']'))
            {
                _position++;
            }

            var literal = _text[start.._position];
            return literal switch
            {
                "true" => ScimValue.True,
                "false" => ScimValue.False,
                "null" => ScimValue.Null,
                _ when IsJsonNumber(literal) && decimal.TryParse(literal, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => ScimValue.Of(number),
                _ => throw Error($"'{Short(literal)}' is not a value (a quoted string, a number, true, false or null)"),
            };
        }

        private string JsonString()
        {
            var start = _position++;
            while (!AtEnd && _text[_position] != '"')
            {
                _position += _text[_position] == '\\' ? 2 : 1;
            }

            if (AtEnd)
            {
                throw Error("the string is not terminated");
            }

            _position++;
            try
            {
                return JsonSerializer.Deserialize<string>(_text.AsSpan(start, _position - start)) ?? "";
            }
            catch (JsonException)
            {
                throw Error("the string is not a valid JSON string");
            }
        }

        private static bool IsJsonNumber(string literal)
        {
            var i = 0;
            if (i < literal.Length && literal[i] == '-')
            {
                i++;
            }

            var digits = i;
            while (i < literal.Length && char.IsAsciiDigit(literal[i]))
            {
                i++;
            }

            if (i == digits || (literal[digits] == '0' && i - digits > 1))
            {
                return false;
            }

            if (i < literal.Length && literal[i] == '.')
            {
                var fraction = ++i;
                while (i < literal.Length && char.IsAsciiDigit(literal[i]))
                {
                    i++;
                }

                if (i == fraction)
                {
                    return false;
                }
            }

            if (i < literal.Length && literal[i] is 'e' or 'E')
            {
                i++;
                if (i < literal.Length && literal[i] is '+' or '-')
                {
                    i++;
                }

                var exponent = i;
                while (i < literal.Length && char.IsAsciiDigit(literal[i]))
                {
                    i++;
                }

                if (i == exponent)
                {
                    return false;
                }
            }

            return i == literal.Length;
        }

        /// <summary>A keyword (and, or, not) as a whole word, case-insensitive.</summary>
        private bool TryKeyword(string keyword)
        {
            var start = _position;
            SkipSpaces();
            if (_position + keyword.Length <= _text.Length
                && string.Compare(_text, _position, keyword, 0, keyword.Length, StringComparison.OrdinalIgnoreCase) == 0
                && (_position + keyword.Length == _text.Length || !char.IsAsciiLetterOrDigit(_text[_position + keyword.Length])))
            {
                _position += keyword.Length;
                return true;
            }

            _position = start;
            return false;
        }

        public bool TryTake(char c)
        {
            if (!AtEnd && _text[_position] == c)
            {
                _position++;
                return true;
            }

            return false;
        }

        public void Expect(char c)
        {
            if (!TryTake(c))
            {
                throw Error($"'{c}' is expected");
            }
        }

        private bool TakeSpace()
        {
            var start = _position;
            SkipSpaces();
            return _position > start;
        }

        public void SkipSpaces()
        {
            while (!AtEnd && _text[_position] == ' ')
            {
                _position++;
            }
        }

        private static string Short(string value) => value.Length > 40 ? value[..40] : value;
    }
}
