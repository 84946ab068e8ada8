using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Arch;

namespace Vexlab.Cli.Commands;

/// <summary>
/// <c>vexlab explain rules</c>: the exception classes, the whole double-fault matrix and the
/// blocking rules the model encodes, each with its source.
/// </summary>
public static class ExplainRulesCommand
{
    private static readonly (string Event, string Rule, string Citation)[] s_blocking =
    [
        ("interrupt", "accepted only with IF=1, no STI or MOV SS shadow, and vector[7:4] > PPR[7:4]",
            "SDM Vol. 3A 6.8.1, 6.8.3, 10.8.3.1 (11.8.3.1); Vol. 3C 26.3.1.5"),
        ("ppr", "PPR[7:4] = max(TPR[7:4], ISRV[7:4]); PPR[3:0] = TPR[3:0] if TPR[7:4] >= ISRV[7:4], else 0",
            "SDM Vol. 3A 10.8.3.1 (11.8.3.1)"),
        ("nmi", "accepted unless NMI-blocked or in a MOV SS shadow; an STI shadow also blocks it (KVM, some CPUs)",
            "SDM Vol. 3A 6.7.1; Vol. 3C 26.3.1.5; KVM vmx_nmi_blocked()"),
        ("exception", "never blocked by IF, TPR/PPR, the interrupt shadow or NMI blocking (#PF, #VE included), except #DB in a MOV SS shadow",
            "SDM Vol. 3A 6.8.1, 6.8.3; Vol. 3C 26.3.1.5 (no check for hardware exceptions)"),
        ("#ve", "convertible iff the EPT-violation #VE control (secondary bit 18) is 1 and bit 63 of the deciding EPT entry is 0",
            "SDM Vol. 3C 25.5.6.1 (2016 ed.; 26.5.7 / 27.5.x later)"),
        ("#ve", "a convertible violation is a #VE only if CR0.PE=1, not during IDT event delivery, and the busy word (offset 4) is 0; otherwise an EPT-violation VM exit (48)",
            "SDM Vol. 3C 25.5.6.1 (2016 ed.)"),
        ("#ve", "delivery writes exit reason 48 and busy word 0xFFFFFFFF; no further #VE until software clears offset 4",
            "SDM Vol. 3C 25.5.6.2, Table 25-1 (2016 ed.)"),
        ("#pf", "delivery writes the faulting linear address to CR2; saving and restoring CR2 is guest software",
            "SDM Vol. 3A 6.15 (Interrupt 14)"),
        ("gate delivery", "an interrupt gate clears IF and TF (Linux uses interrupt gates for every vector); delivery ends any interrupt shadow; NMI delivery sets NMI blocking",
            "SDM Vol. 3A 6.12.1.3, 6.7.1"),
        ("iret", "IF comes back from the saved RFLAGS; NMI blocking ends, also on an IRET from an exception taken inside the NMI handler",
            "SDM Vol. 3A 6.7.1"),
    ];

    public static Command Create(CliContext context)
    {
        var rules = ArchFormat.CreateRulesOption();
        var json = JsonTarget.CreateOption();
        var wide = TerminalWidth.CreateOption();
        var command = new Command("rules", "Print the exception classes, the double-fault matrix and the event-blocking rules");
        command.Options.Add(rules);
        command.Options.Add(json);
        command.Options.Add(wide);
        command.SetAction(parse =>
        {
            var set = ArchFormat.Rules(parse, rules);
            var target = JsonTarget.From(parse, json);
            var human = context.Human(target);
            WriteHuman(human, context.TableWidth(human, parse.GetValue(wide)), set);
            ResultDocument.Write(context, target, BuildDocument(set));
            return ExitCodes.Done;
        });
        return command;
    }

    internal static JsonObject BuildDocument(DoubleFaultRules rules)
    {
        var doc = ResultDocument.Create();
        doc["rules"] = ArchFormat.RulesName(rules);

        var classes = new JsonArray();
        foreach (var v in ClassVectors())
        {
            classes.Add(new JsonObject
            {
                ["vector"] = v,
                ["mnemonic"] = Vectors.Mnemonic(v),
                ["class"] = ArchFormat.ClassName(v, rules),
            });
        }

        classes.Add(new JsonObject { ["vectors"] = "32-255", ["mnemonic"] = "INT n / INTR", ["class"] = "benign" });
        doc["classes"] = classes;

        var vectors = new JsonArray();
        var seconds = new JsonArray();
        foreach (var v in ArchFormat.MatrixVectors)
        {
            vectors.Add(v);
            if (v != Vectors.DF)
            {
                seconds.Add(v);
            }
        }

        var matrix = new JsonArray();
        foreach (var first in ArchFormat.MatrixVectors)
        {
            foreach (var second in ArchFormat.MatrixVectors)
            {
                if (second == Vectors.DF)
                {
                    continue;
                }

                matrix.Add(new JsonObject
                {
                    ["first"] = first,
                    ["second"] = second,
                    ["outcome"] = ArchFormat.OutcomeName(DoubleFault.Combine(first, second, rules)),
                });
            }
        }

        doc["double_fault"] = new JsonObject
        {
            ["citation"] = rules == DoubleFaultRules.Kvm
                ? "KVM arch/x86/kvm/x86.c exception_class(), kvm_multiple_exception()"
                : "SDM Vol. 3A 6.15, Tables 6-4 and 6-5",
            ["firsts"] = vectors,
            ["seconds"] = seconds,
            ["matrix"] = matrix,
        };

        var blocking = new JsonArray();
        foreach (var (ev, rule, citation) in s_blocking)
        {
            blocking.Add(new JsonObject { ["event"] = ev, ["rule"] = rule, ["citation"] = citation });
        }

        doc["blocking"] = blocking;
        return doc;
    }

    private static IEnumerable<byte> ClassVectors()
        => Enumerable.Range(0, Vectors.FirstUserVector).Where(v => !Vectors.IsReserved(v)).Select(v => (byte)v);

    private static void WriteHuman(IAnsiConsole console, int width, DoubleFaultRules rules)
    {
        var classes = new FittedTable(
                TableShape.Records,
                "Exception classes",
                "SDM Vol. 3A Table 6-4 (#DF, an abort, is in none of its classes); KVM exception_class() (benign for #DF: kvm_multiple_exception() tests prev_nr == DF_VECTOR for the triple fault before it looks up a class); #VC/#SX per AMD APM Vol. 2 Table 8-1 (class assumed benign)")
            .Column("vector", Justify.Right)
            .Column("mnemonic")
            .Column("sdm class")
            .Column("kvm class");
        foreach (var v in ClassVectors())
        {
            classes.Row(
                v.ToString(CultureInfo.InvariantCulture),
                Vectors.Mnemonic(v),
                ArchFormat.ClassName(v, DoubleFaultRules.Sdm),
                ArchFormat.ClassName(v, DoubleFaultRules.Kvm));
        }

        classes.Row("32-255", "INT n / INTR", "benign", "benign");
        classes.Write(console, width);
        console.WriteLine();

        var matrix = new FittedTable(
                TableShape.Pivot,
                string.Create(CultureInfo.InvariantCulture, $"Double fault ({ArchFormat.RulesName(rules)} rules): row = exception being delivered, column = exception raised meanwhile"),
                rules == DoubleFaultRules.Kvm
                    ? ". serial, DF double fault, TF triple fault; KVM kvm_multiple_exception() with exception_class()"
                    : ". serial, DF double fault, TF triple fault; SDM Vol. 3A 6.15, Table 6-5; the #VE column is a #VE injected in software: the processor raises none during event delivery (SDM Vol. 3C 25.5.6.1)")
            .Column("first \\ second");
        foreach (var second in ArchFormat.MatrixVectors)
        {
            if (second != Vectors.DF)
            {
                matrix.Column(Vectors.Mnemonic(second), Justify.Center);
            }
        }

        var cells = new List<string>();
        foreach (var first in ArchFormat.MatrixVectors)
        {
            cells.Clear();
            cells.Add(string.Create(CultureInfo.InvariantCulture, $"{Vectors.Mnemonic(first)} ({ArchFormat.ClassName(first, rules)})"));
            foreach (var second in ArchFormat.MatrixVectors)
            {
                if (second != Vectors.DF)
                {
                    cells.Add(ArchFormat.OutcomeCell(DoubleFault.Combine(first, second, rules)));
                }
            }

            matrix.Row([.. cells]);
        }

        matrix.Write(console, width);
        console.WriteLine();

        var blocking = new FittedTable(TableShape.Records, "Event blocking")
            .Column("event")
            .Column("rule")
            .Column("source");
        foreach (var (ev, rule, citation) in s_blocking)
        {
            blocking.Row(ev, rule, citation);
        }

        blocking.Write(console, width);
    }
}
