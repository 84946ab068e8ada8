using System.CommandLine;
using System.Globalization;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Arch;
using Vexlab.Model.Configuration;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab explain double-fault FIRST SECOND</c>: one cell of the double-fault rule.</summary>
public static class ExplainDoubleFaultCommand
{
    public static Command Create(CliContext context)
    {
        var first = new Argument<string?>("FIRST")
        {
            Description = "The exception being delivered (14, PF, '#PF', 0x0e)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var second = new Argument<string?>("SECOND")
        {
            Description = "The exception raised while delivering FIRST (not #DF)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var rules = ArchFormat.CreateRulesOption();
        var json = JsonTarget.CreateOption();
        var command = new Command(
            "double-fault",
            "What happens when SECOND is raised while FIRST is being delivered: serial, double fault or triple fault");
        command.Arguments.Add(first);
        command.Arguments.Add(second);
        command.Options.Add(rules);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, json);
            var a = ArchFormat.ParseVector(parse.GetValue(first), "FIRST");
            var b = ArchFormat.ParseVector(parse.GetValue(second), "SECOND");
            if (b == Vectors.DF)
            {
                throw InputException.At("SECOND", 0, 0, null, "#DF is the result of the double-fault rule, not an exception raised by a delivery");
            }

            var set = ArchFormat.Rules(parse, rules);
            Run(context, a, b, set, target);
            return ExitCodes.Done;
        });
        return command;
    }

    private static void Run(CliContext context, byte first, byte second, DoubleFaultRules rules, JsonTarget target)
    {
        var outcome = DoubleFault.Combine(first, second, rules);
        var human = context.HumanWriter(target);
        human.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{Describe(second, rules)} raised while delivering {Describe(first, rules)}, {ArchFormat.RulesName(rules)} rules: {ArchFormat.OutcomeName(outcome)}"));
        human.WriteLine(Why(first, second, rules, outcome));
        var note = Note(first, second);
        if (note is not null)
        {
            human.WriteLine("  Note: " + note);
        }

        human.Flush();

        var doc = ResultDocument.Create();
        doc["first"] = first;
        doc["second"] = second;
        doc["first_class"] = ArchFormat.ClassName(first, rules);
        doc["second_class"] = ArchFormat.ClassName(second, rules);
        doc["rules"] = ArchFormat.RulesName(rules);
        doc["outcome"] = ArchFormat.OutcomeName(outcome);
        doc["note"] = note;
        ResultDocument.Write(context, target, doc);
    }

    /// <summary>
    /// What the table alone does not say: the processor never raises #VE while it delivers an event, since an EPT
    /// violation met during event delivery is not convertible (SDM Vol. 3C 25.5.6.1) but a VM exit, after which the
    /// host re-injects the event it interrupted. A #VE there is one the hypervisor injects in software.
    /// </summary>
    private static string? Note(byte first, byte second) => second == Vectors.VE
        ? $"the processor raises no #VE while delivering {Vectors.Mnemonic(first)}: an EPT violation met during event delivery is a VM exit, not a #VE (SDM Vol. 3C 25.5.6.1), and the host re-injects {Vectors.Mnemonic(first)}; only a #VE the hypervisor injects in software meets this rule."
        : null;

    private static string Describe(byte vector, DoubleFaultRules rules)
        => string.Create(CultureInfo.InvariantCulture, $"{Vectors.Mnemonic(vector)} ({vector}, {ArchFormat.ClassName(vector, rules)} class)");

    private static string Why(byte first, byte second, DoubleFaultRules rules, DoubleFaultOutcome outcome)
    {
        if (first == Vectors.DF)
        {
            if (rules == DoubleFaultRules.Kvm && second == Vectors.NMI)
            {
                return "  KVM injects an NMI through nmi_injected (process_nmi), never through kvm_multiple_exception(): it waits for the #DF's injection and is delivered after it.";
            }

            return rules == DoubleFaultRules.Kvm
                ? "  KVM kvm_multiple_exception(): any exception while #DF is pending or injected requests a triple fault."
                : "  SDM Vol. 3A 6.15 (Interrupt 8): a contributory or page-fault exception while calling the #DF handler shuts the processor down; a benign one is handled serially.";
        }

        if (first == Vectors.NMI && second == Vectors.NMI)
        {
            // SDM Vol. 3A 6.7.1: the processor blocks NMIs from the start of an NMI's delivery until the next IRET.
            return rules == DoubleFaultRules.Kvm
                ? "  KVM injects NMIs through nmi_injected (process_nmi), never through kvm_multiple_exception(): a second NMI waits, pending, while the first is injected and its handler runs (vmx_nmi_blocked), and is injected after the handler's IRET."
                : "  SDM Vol. 3A 6.7.1 (Handling Multiple NMIs): delivering an NMI blocks further NMIs until the next IRET; the second NMI is held pending and delivered after the first handler's IRET.";
        }

        var source = rules == DoubleFaultRules.Kvm ? "KVM exception_class() with SDM Table 6-5" : "SDM Vol. 3A Tables 6-4 and 6-5";
        return outcome == DoubleFaultOutcome.DoubleFault
            ? $"  {source}: {ArchFormat.ClassName(first, rules)} then {ArchFormat.ClassName(second, rules)} cannot be handled serially; the processor delivers #DF."
            : $"  {source}: {ArchFormat.ClassName(first, rules)} then {ArchFormat.ClassName(second, rules)} is handled serially: {Vectors.Mnemonic(second)} is delivered first.";
    }
}
