using System.Text.RegularExpressions;
using Vexlab.DocsCheck;
using Vexlab.Model.Protocols;

namespace Vexlab.Docs.Tests;

/// <summary>
/// Every model knob is named in the prose of README.md or docs/*.md, in backticks, beside the rule it models and
/// its source, as docs/kvm-facts.md names its siblings. Five knobs (guest.nmi.save_restore_cr2,
/// guest.nmi.save_restore_apf_flags, guest.ve.trace_point, host.apf.ready_only_if_not_present_delivered,
/// host.apf.cancel_pending_not_present) were named only by <c>vexlab explain keys</c>: a pasted table of its output
/// or a replay line does not count.
/// </summary>
public sealed class KnobDocsTests
{
    private static readonly string Root = DocsRun.FindRoot(AppContext.BaseDirectory);

    [Fact]
    public void Every_knob_is_named_in_the_docs_prose()
    {
        var prose = string.Join("\n", new[] { Path.Combine(Root, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md"))
            .SelectMany(File.ReadLines)
            .Where(l => !l.Contains('│') && !l.StartsWith("$ ", StringComparison.Ordinal) && !l.StartsWith("vexlab: ", StringComparison.Ordinal)));
        var missing = KnobCatalog.All
            .Select(k => k.Key)
            .Where(key => !Regex.IsMatch(prose, "`" + Regex.Escape(key) + @"(?![\w.])"))
            .ToList();

        Assert.True(missing.Count == 0, "no page of README.md or docs/*.md names in its prose: " + string.Join(", ", missing));
    }
}
