using System.CommandLine;
using System.Globalization;
using Vexlab.Model.Arch;
using Vexlab.Model.Configuration;

namespace Vexlab.Cli.Commands;

/// <summary>Names, options and parsing shared by the <c>explain</c> commands about x86 rules.</summary>
internal static class ArchFormat
{
    /// <summary>The vectors of the double-fault matrix: 0-21 without the reserved 15.</summary>
    public static IReadOnlyList<byte> MatrixVectors { get; } =
        Enumerable.Range(0, 22).Where(v => !Vectors.IsReserved(v)).Select(v => (byte)v).ToArray();

    public static Option<string> CreateRulesOption() => new("--rules")
    {
        Description = "Classification: 'sdm' (the processor, SDM Tables 6-4/6-5) or 'kvm' (KVM's exception_class())",
        DefaultValueFactory = _ => "sdm",
        HelpName = "sdm|kvm",
    };

    /// <summary>The rule set named by <c>--rules</c>; anything but sdm or kvm is bad input (one line, exit 2).</summary>
    public static DoubleFaultRules Rules(ParseResult parse, Option<string> option)
    {
        var value = parse.GetValue(option);
        if (string.Equals(value, "sdm", StringComparison.OrdinalIgnoreCase))
        {
            return DoubleFaultRules.Sdm;
        }

        if (string.Equals(value, "kvm", StringComparison.OrdinalIgnoreCase))
        {
            return DoubleFaultRules.Kvm;
        }

        throw InputException.At(null, 0, 0, "--rules", $"'{value}' is not a rule set (expected sdm or kvm)");
    }

    public static string RulesName(DoubleFaultRules rules) => rules == DoubleFaultRules.Kvm ? "kvm" : "sdm";

    /// <summary>
    /// "benign", "contributory", "page-fault"; under the SDM's rules "abort" for #DF, an abort (SDM Vol. 3A Table 6-1)
    /// that Table 6-4 does not class. KVM's exception_class() returns benign for #DF (its default); the triple fault
    /// comes from kvm_multiple_exception()'s own test of prev_nr == DF_VECTOR, made before any class is looked up.
    /// </summary>
    public static string ClassName(int vector, DoubleFaultRules rules)
    {
        if (vector == Vectors.DF && rules == DoubleFaultRules.Sdm)
        {
            return "abort";
        }

        return Vectors.Classify(vector, rules) switch
        {
            ExceptionClass.Contributory => "contributory",
            ExceptionClass.PageFault => "page-fault",
            _ => "benign",
        };
    }

    public static string OutcomeName(DoubleFaultOutcome outcome) => outcome switch
    {
        DoubleFaultOutcome.DoubleFault => "double-fault",
        DoubleFaultOutcome.TripleFault => "triple-fault",
        _ => "serial",
    };

    public static string OutcomeCell(DoubleFaultOutcome outcome) => outcome switch
    {
        DoubleFaultOutcome.DoubleFault => "DF",
        DoubleFaultOutcome.TripleFault => "TF",
        _ => ".",
    };

    /// <summary>
    /// Parses a vector argument. Only the defined exceptions and NMI (0-31 minus the reserved ones) take part in
    /// the double-fault rule; INT n and external interrupts (32-255) are all benign and are refused here.
    /// </summary>
    public static byte ParseVector(string? text, string name)
    {
        if (text is null)
        {
            throw InputException.At(name, 0, 0, null, "missing vector (a number such as 14 or a mnemonic such as PF or '#PF')");
        }

        if (!Vectors.TryParse(text, out var vector))
        {
            throw InputException.At(name, 0, 0, null, $"'{text}' is not a vector (a number 0-255, 0x0e, or a mnemonic such as PF or '#PF')");
        }

        if (Vectors.IsReserved(vector))
        {
            throw InputException.At(name, 0, 0, null, string.Create(
                CultureInfo.InvariantCulture, $"vector {vector} is reserved and has no exception class"));
        }

        if (vector >= Vectors.FirstUserVector)
        {
            throw InputException.At(name, 0, 0, null, string.Create(
                CultureInfo.InvariantCulture, $"vector {vector} is not an exception vector (0-31; INT n and external interrupts are all benign)"));
        }

        return vector;
    }
}
