using System.Globalization;
using Vexlab.Model.Configuration;
using Vexlab.Model.Machine;
using Vexlab.Scenarios.Documents;
using Vexlab.Scenarios.Files;

namespace Vexlab.Checking.Models;

/// <summary>An invariant's condition over named state fields.</summary>
public abstract record InvariantCondition
{
    /// <summary>True when the machine's current state satisfies the condition.</summary>
    public abstract bool Holds(Machine m);
}

/// <summary><c>not A</c>.</summary>
public sealed record InvariantNot(InvariantCondition Operand) : InvariantCondition
{
    public override bool Holds(Machine m) => !Operand.Holds(m);
}

/// <summary>
/// <c>A and B and ...</c> (<paramref name="Any"/> false) or <c>A or B or ...</c> (true): one node for the whole chain,
/// tested in a loop, so that a long chain is no deeper a tree than a short one.
/// </summary>
public sealed record InvariantChain(bool Any, InvariantCondition[] Operands) : InvariantCondition
{
    public override bool Holds(Machine m)
    {
        foreach (var operand in Operands)
        {
            if (operand.Holds(m) == Any)
            {
                return Any;
            }
        }

        return !Any;
    }
}

/// <summary><c>A =&gt; B</c>: B holds wherever A does.</summary>
public sealed record InvariantImplication(InvariantCondition Premise, InvariantCondition Conclusion) : InvariantCondition
{
    public override bool Holds(Machine m) => !Premise.Holds(m) || Conclusion.Holds(m);
}

/// <summary>
/// Parses an invariant expression. Grammar (lowest precedence first): <c>A =&gt; B</c> (right
/// associative), <c>or</c>, <c>and</c>, <c>not</c>, then <c>( ... )</c> or <c>FIELD OP INTEGER</c>
/// with OP one of <c>== != &lt; &lt;= &gt; &gt;=</c>. Errors name the file, line and the column of
/// the offending token. The parser and <see cref="InvariantCondition.Holds"/> recurse once per <c>not</c>,
/// <c>(</c> and <c>=&gt;</c>, so those nest at most <see cref="InputLimits.MaxDepth"/> deep, as YAML does: an
/// expression of 20,000 <c>not</c>s overflowed the stack, where a bound gives one line and exit 2.
/// </summary>
public sealed class InvariantParser
{
    private static readonly string[] s_ops = ["==", "!=", "<=", ">=", "<", ">"];

    private readonly ScalarNode _node;
    private readonly string _text;
    private readonly int _vcpus;
    private readonly List<(string Text, int At)> _tokens;
    private readonly int _maxDepth = InputLimits.MaxDepth;
    private int _next;
    private int _depth;

    private InvariantParser(ScalarNode node, int vcpus)
    {
        _node = node;
        _text = node.Value;
        _vcpus = vcpus;
        _tokens = Tokenize(_text);
    }

    /// <summary>Parses the expression in <paramref name="node"/>; bad input throws <see cref="InputException"/>.</summary>
    public static InvariantCondition Parse(ScalarNode node, int vcpus)
    {
        ArgumentNullException.ThrowIfNull(node);
        var p = new InvariantParser(node, vcpus);
        if (p._tokens.Count == 0)
        {
            throw p.Error(0, "expected an expression such as 'sleeping <= 1'");
        }

        // A lone value (expr: 3, expr: true) is no expression at all: read as a field, it was refused as
        // "unknown field '3'", as if a field's name were all it lacked. A lone word near a field's name is still
        // answered as a mistyped field, and one naming a field as a comparison without its operator, below.
        if (p._tokens.Count == 1 && p._tokens[0] is var (only, onlyAt) && ModelFile.FindField(only, vcpus, out _) is null
            && (!IsName(only) || NearestName.Suggestions(only, ModelFile.FieldNames).Count == 0))
        {
            throw p.Error(onlyAt, $"expected an invariant expression such as 'sleeping <= 1' (FIELD OP INTEGER, joined by and, or, not, =>), got '{only}'");
        }

        var c = p.Implication();
        if (p._next < p._tokens.Count)
        {
            var (text, at) = p._tokens[p._next];
            throw p.Error(at, $"unexpected '{text}' (expected and, or, => or the end)");
        }

        return c;
    }

    private InvariantCondition Implication()
    {
        var left = Disjunction();
        if (Accept("=>"))
        {
            Deeper(_tokens[_next - 1].At);
            var right = Implication();
            _depth--;
            return new InvariantImplication(left, right);
        }

        return left;
    }

    private InvariantCondition Disjunction()
    {
        var first = Conjunction();
        if (_next >= _tokens.Count || _tokens[_next].Text != "or")
        {
            return first;
        }

        var operands = new List<InvariantCondition> { first };
        while (Accept("or"))
        {
            operands.Add(Conjunction());
        }

        return new InvariantChain(Any: true, [.. operands]);
    }

    private InvariantCondition Conjunction()
    {
        var first = Unary();
        if (_next >= _tokens.Count || _tokens[_next].Text != "and")
        {
            return first;
        }

        var operands = new List<InvariantCondition> { first };
        while (Accept("and"))
        {
            operands.Add(Unary());
        }

        return new InvariantChain(Any: false, [.. operands]);
    }

    private InvariantCondition Unary()
    {
        if (Accept("not"))
        {
            Deeper(_tokens[_next - 1].At);
            var operand = Unary();
            _depth--;
            return new InvariantNot(operand);
        }

        var (text, at) = Take("a field, 'not' or '('");
        if (text == "(")
        {
            Deeper(at);
            var inner = Implication();
            _depth--;
            var (close, closeAt) = Take("')'");
            if (close != ")")
            {
                throw Error(closeAt, $"expected ')', got '{close}'");
            }

            return inner;
        }

        // A number or an operator where a field goes (3 < sleeping, == 1) is not a mistyped field name.
        if (!IsName(text))
        {
            throw Error(at, $"expected a field, 'not' or '(', got '{text}' (a comparison is FIELD OP INTEGER, such as 'sleeping <= 1')");
        }

        var field = ModelFile.FindField(text, _vcpus, out var problem) ?? throw Error(at, problem!);
        var (opText, opAt) = Take("an operator (" + string.Join(' ', s_ops) + ")");
        var op = opText switch
        {
            "==" => InvariantOp.Equal,
            "!=" => InvariantOp.NotEqual,
            "<" => InvariantOp.Less,
            "<=" => InvariantOp.LessOrEqual,
            ">" => InvariantOp.Greater,
            ">=" => InvariantOp.GreaterOrEqual,
            _ => throw Error(opAt, $"unknown operator '{opText}' (expected one of {string.Join(' ', s_ops)})"),
        };
        var (valueText, valueAt) = Take("an integer");
        if (!long.TryParse(valueText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            throw Error(valueAt, $"expected an integer after '{opText}', got '{valueText}'");
        }

        // The state counts leaked dummies up to Machine.LeakedDummiesCounted (that value for as many or more), so a
        // comparison with a larger number, or one that needs that value exact, would be decided wrongly.
        const int counted = Machine.LeakedDummiesCounted;
        if (field.Field == InvariantField.LeakedDummies
            && (op is InvariantOp.Less or InvariantOp.GreaterOrEqual ? value > counted : value >= counted))
        {
            throw Error(valueAt, FormattableString.Invariant(
                $"leaked_dummies counts 0 to {counted - 1}, then {counted} for {counted} or more: compare it with a number below {counted} (or '< {counted}', '>= {counted}'), not '{opText} {valueText}'"));
        }

        return new InvariantComparison(field.Field, field.Vcpu, op, value);
    }

    /// <summary>One level deeper at the token at <paramref name="at"/>: a <c>not</c>, a <c>(</c> or a <c>=&gt;</c>.</summary>
    private void Deeper(int at)
    {
        if (++_depth > _maxDepth)
        {
            throw Error(at, string.Create(CultureInfo.InvariantCulture, $"nested deeper than {_maxDepth} levels (not, parentheses and => count); set {InputLimits.MaxDepthVariable} to raise the limit"));
        }
    }

    /// <summary>Whether <paramref name="token"/> could be a field's name: fields begin with a letter (vcpu0.if, sleeping).</summary>
    private static bool IsName(string token) => token.Length > 0 && char.IsAsciiLetter(token[0]);

    private bool Accept(string token)
    {
        if (_next < _tokens.Count && _tokens[_next].Text == token)
        {
            _next++;
            return true;
        }

        return false;
    }

    private (string Text, int At) Take(string expected)
    {
        if (_next >= _tokens.Count)
        {
            throw Error(_text.Length, $"'{_text.Trim()}': expected {expected} at the end");
        }

        return _tokens[_next++];
    }

    /// <summary>
    /// An error at character <paramref name="at"/> of the expression (the quote, if any, counts); at the scalar's
    /// start when its value is not its source text (a block scalar, a line break, an escape), where no column
    /// counted along the value is the token's.
    /// </summary>
    private InputException Error(int at, string problem) =>
        InputException.At(
            _node.File,
            _node.Line,
            _node.IsVerbatim ? _node.Column + (_node.IsQuoted ? 1 : 0) + at : _node.Column,
            _node.Path.Length == 0 ? null : _node.Path,
            problem);

    private static List<(string, int)> Tokenize(string text)
    {
        var tokens = new List<(string, int)>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            var start = i;
            if (c is '(' or ')')
            {
                i++;
            }
            else if (c is '=' or '!' or '<' or '>')
            {
                while (i < text.Length && text[i] is '=' or '!' or '<' or '>')
                {
                    i++;
                }
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('(' or ')' or '=' or '!' or '<' or '>'))
                {
                    i++;
                }
            }

            tokens.Add((text[start..i], start));
        }

        return tokens;
    }
}
