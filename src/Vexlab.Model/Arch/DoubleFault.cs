using System.Globalization;

namespace Vexlab.Model.Arch;

/// <summary>What happens when an exception is raised while a prior one is being delivered.</summary>
public enum DoubleFaultOutcome : byte
{
    /// <summary>The two are handled one after the other: the second is delivered, the first re-raised on return.</summary>
    Serial,

    /// <summary>The processor delivers #DF (vector 8, error code 0) instead.</summary>
    DoubleFault,

    /// <summary>Shutdown; under VMX a "triple fault" VM exit (basic exit reason 2).</summary>
    TripleFault,
}

/// <summary>Which classification the combination uses.</summary>
public enum DoubleFaultRules : byte
{
    /// <summary>The processor: SDM Vol. 3A, Tables 6-4 and 6-5.</summary>
    Sdm,

    /// <summary>
    /// KVM's software merge of two queued exceptions, kvm_multiple_exception() with exception_class()
    /// in arch/x86/kvm/x86.c: only #PF is page-fault class, #VE and #CP are benign, and any
    /// exception raised while #DF is pending or being injected requests a triple fault.
    /// </summary>
    Kvm,
}

/// <summary>The double-fault rule. SDM Vol. 3A, 6.15 "Interrupt 8 - Double Fault Exception (#DF)".</summary>
public static class DoubleFault
{
    // Indexed [first class, second class]. SDM Vol. 3A, Table 6-5 "Conditions for Generating a Double Fault":
    //   benign first: always serial;
    //   contributory then contributory -> #DF; contributory then page fault -> serial;
    //   page fault then contributory or page fault -> #DF.
    private static readonly DoubleFaultOutcome[,] s_table =
    {
        // second:         Benign                     Contributory                     PageFault
        /* Benign */       { DoubleFaultOutcome.Serial, DoubleFaultOutcome.Serial,      DoubleFaultOutcome.Serial },
        /* Contributory */ { DoubleFaultOutcome.Serial, DoubleFaultOutcome.DoubleFault, DoubleFaultOutcome.Serial },
        /* PageFault */    { DoubleFaultOutcome.Serial, DoubleFaultOutcome.DoubleFault, DoubleFaultOutcome.DoubleFault },
    };

    /// <summary>
    /// Combines <paramref name="first"/>, the exception being delivered, with <paramref name="second"/>,
    /// the one raised while delivering it.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// <paramref name="second"/> is #DF (the processor never raises #DF as a fault of a delivery; it is
    /// the output of this rule), or a vector is reserved.
    /// </exception>
    public static DoubleFaultOutcome Combine(int first, int second, DoubleFaultRules rules = DoubleFaultRules.Sdm)
    {
        if (second == Vectors.DF)
        {
            throw new ArgumentException("#DF is the result of the double-fault rule, not a second exception", nameof(second));
        }

        var secondClass = Vectors.Classify(second, rules);
        if (first == Vectors.DF)
        {
            if (rules == DoubleFaultRules.Kvm)
            {
                // kvm_multiple_exception(): prev_nr == DF_VECTOR -> KVM_REQ_TRIPLE_FAULT, whatever the new
                // exception. An NMI never goes through it: KVM injects NMIs through nmi_injected
                // (kvm_inject_nmi, process_nmi), which waits for the #DF's injection; and NMI is benign in
                // SDM Table 6-4, so the processor too delivers it after the #DF, serially.
                return second == Vectors.NMI ? DoubleFaultOutcome.Serial : DoubleFaultOutcome.TripleFault;
            }

            // SDM Vol. 3A, 6.15 Interrupt 8: a contributory or page-fault exception while calling the #DF
            // handler -> shutdown (triple fault); a benign one is handled serially.
            return secondClass == ExceptionClass.Benign ? DoubleFaultOutcome.Serial : DoubleFaultOutcome.TripleFault;
        }

        var firstClass = Vectors.Classify(first, rules);
        return s_table[(int)firstClass, (int)secondClass];
    }

    /// <summary>The Table 6-5 cell for two classes (the rule without the #DF special case).</summary>
    public static DoubleFaultOutcome Combine(ExceptionClass first, ExceptionClass second)
    {
        if ((uint)first > (uint)ExceptionClass.PageFault || (uint)second > (uint)ExceptionClass.PageFault)
        {
            throw new ArgumentOutOfRangeException(
                nameof(first), string.Create(CultureInfo.InvariantCulture, $"unknown class {first} or {second}"));
        }

        return s_table[(int)first, (int)second];
    }
}
