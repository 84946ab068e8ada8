using System.Globalization;

namespace Vexlab.Model.Arch;

/// <summary>
/// The architectural exception vectors 0-31, their mnemonics and their double-fault classes.
/// SDM Vol. 3A, Table 6-1 "Exceptions and Interrupts"; AMD APM Vol. 2, Table 8-1 for 28-30.
/// </summary>
/// <remarks>
/// Reserved: 15, 22-28 and 31. Intel reserves 22-31; AMD defines 28 (#HV, hypervisor injection),
/// 29 (#VC, VMM communication, SEV-ES) and 30 (#SX, security exception). The model keeps 28
/// reserved (it is only meaningful for SEV-SNP restricted injection), and accepts 29 and 30 so
/// that the AMD names parse. Vectors 32-255 are INT n / external interrupts.
/// </remarks>
public static class Vectors
{
    /// <summary>Divide error.</summary>
    public const byte DE = 0;

    /// <summary>Debug.</summary>
    public const byte DB = 1;

    /// <summary>Non-maskable interrupt.</summary>
    public const byte NMI = 2;

    /// <summary>Breakpoint (INT3).</summary>
    public const byte BP = 3;

    /// <summary>Overflow (INTO).</summary>
    public const byte OF = 4;

    /// <summary>BOUND range exceeded.</summary>
    public const byte BR = 5;

    /// <summary>Invalid opcode.</summary>
    public const byte UD = 6;

    /// <summary>Device not available.</summary>
    public const byte NM = 7;

    /// <summary>Double fault (abort, error code 0).</summary>
    public const byte DF = 8;

    /// <summary>Coprocessor segment overrun (not generated since the i486).</summary>
    public const byte CSO = 9;

    /// <summary>Invalid TSS.</summary>
    public const byte TS = 10;

    /// <summary>Segment not present.</summary>
    public const byte NP = 11;

    /// <summary>Stack-segment fault.</summary>
    public const byte SS = 12;

    /// <summary>General protection.</summary>
    public const byte GP = 13;

    /// <summary>
    /// Page fault. Delivery loads the faulting linear address into CR2 before the handler runs
    /// (SDM Vol. 3A, 6.15 "Interrupt 14"); every #PF overwrites it, so saving and restoring CR2
    /// around nested faults is guest software, modelled elsewhere.
    /// </summary>
    public const byte PF = 14;

    /// <summary>x87 floating-point error.</summary>
    public const byte MF = 16;

    /// <summary>Alignment check.</summary>
    public const byte AC = 17;

    /// <summary>Machine check.</summary>
    public const byte MC = 18;

    /// <summary>SIMD floating-point exception (AMD: #XF).</summary>
    public const byte XM = 19;

    /// <summary>Virtualization exception (a converted EPT violation, see <see cref="VeConversion"/>).</summary>
    public const byte VE = 20;

    /// <summary>Control-protection exception (CET).</summary>
    public const byte CP = 21;

    /// <summary>VMM communication exception (AMD SEV-ES).</summary>
    public const byte VC = 29;

    /// <summary>Security exception (AMD).</summary>
    public const byte SX = 30;

    /// <summary>The first vector that is not an architectural exception.</summary>
    public const int FirstUserVector = 32;

    // Bit n set: vector n is reserved. SDM Vol. 3A, Table 6-1 (15, 22-31 reserved);
    // AMD APM Vol. 2, Table 8-1 (29 #VC, 30 #SX defined; 28 #HV kept reserved here).
    private const uint ReservedMask = (1u << 15) | (0x7Fu << 22) | (1u << 31);

    // SDM Vol. 3A, Table 6-4: contributory = 0, 10, 11, 12, 13, and 21 (#CP) in editions with CET.
    private const uint SdmContributoryMask = (1u << DE) | (1u << TS) | (1u << NP) | (1u << SS) | (1u << GP) | (1u << CP);

    // SDM Vol. 3A, Table 6-4: page faults = 14 #PF and 20 #VE.
    private const uint SdmPageFaultMask = (1u << PF) | (1u << VE);

    // KVM exception_class() (arch/x86/kvm/x86.c): DE, TS, NP, SS, GP contributory; #CP benign
    // unless CET is exposed to the guest; everything else, #VE included, benign.
    private const uint KvmContributoryMask = (1u << DE) | (1u << TS) | (1u << NP) | (1u << SS) | (1u << GP);

    // KVM exception_class(): only PF_VECTOR is EXCPT_PF.
    private const uint KvmPageFaultMask = 1u << PF;

    private static readonly string[] s_mnemonics = BuildMnemonics();

    /// <summary>True for 15, 22-28 and 31 (see the type remarks for 28-30).</summary>
    public static bool IsReserved(int vector)
    {
        CheckRange(vector);
        return vector < FirstUserVector && (ReservedMask & (1u << vector)) != 0;
    }

    /// <summary>True for a defined architectural exception or NMI: 0-31 minus the reserved ones.</summary>
    public static bool IsException(int vector) => vector is >= 0 and < FirstUserVector && !IsReserved(vector);

    /// <summary>"#PF", "NMI", "#VE"; "reserved-15" for reserved vectors; "INT-32" for 32-255.</summary>
    public static string Mnemonic(int vector)
    {
        CheckRange(vector);
        return s_mnemonics[vector];
    }

    /// <summary>
    /// Parses a vector: decimal ("14"), hexadecimal ("0x0e") or a mnemonic with or without '#'
    /// in any case ("PF", "#pf", "NMI", "XF" for #XM). Reserved vectors parse; callers check them.
    /// </summary>
    public static bool TryParse(string text, out byte vector)
    {
        ArgumentNullException.ThrowIfNull(text);
        var span = text.AsSpan().Trim();
        vector = 0;
        if (span.IsEmpty)
        {
            return false;
        }

        if (span.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return byte.TryParse(span[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out vector)
                && span.Length > 2;
        }

        if (char.IsAsciiDigit(span[0]))
        {
            return byte.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out vector);
        }

        if (span[0] == '#')
        {
            span = span[1..];
        }

        if (span.Equals("XF", StringComparison.OrdinalIgnoreCase))
        {
            vector = XM;
            return true;
        }

        for (var v = 0; v < FirstUserVector; v++)
        {
            if (IsReserved(v))
            {
                continue;
            }

            var name = s_mnemonics[v].AsSpan();
            if (name[0] == '#')
            {
                name = name[1..];
            }

            if (span.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                vector = (byte)v;
                return true;
            }
        }

        return false;
    }

    /// <summary>The class per SDM Vol. 3A, Table 6-4.</summary>
    public static ExceptionClass Classify(int vector) => Classify(vector, DoubleFaultRules.Sdm);

    /// <summary>
    /// The class under <paramref name="rules"/>. Vectors 32-255 (INT n, INTR) are benign (SDM Table 6-4,
    /// "All INT n", "All INTR"). #DF itself is not in Table 6-4 and classes as benign here; its role as
    /// the first exception is handled by <see cref="DoubleFault.Combine(int, int, DoubleFaultRules)"/>. #VC and #SX are benign:
    /// the AMD class of both could not be confirmed (see the type remarks) and benign is Table 6-4's default.
    /// </summary>
    /// <exception cref="ArgumentException">The vector is reserved.</exception>
    public static ExceptionClass Classify(int vector, DoubleFaultRules rules)
    {
        CheckRange(vector);
        if (vector >= FirstUserVector)
        {
            return ExceptionClass.Benign;
        }

        if ((ReservedMask & (1u << vector)) != 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"vector {vector} is reserved and has no class"), nameof(vector));
        }

        var bit = 1u << vector;
        var (contributory, pageFault) = rules == DoubleFaultRules.Kvm
            ? (KvmContributoryMask, KvmPageFaultMask)
            : (SdmContributoryMask, SdmPageFaultMask);
        if ((pageFault & bit) != 0)
        {
            return ExceptionClass.PageFault;
        }

        return (contributory & bit) != 0 ? ExceptionClass.Contributory : ExceptionClass.Benign;
    }

    private static void CheckRange(int vector)
    {
        if (vector is < 0 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(vector), vector, "a vector is 0-255");
        }
    }

    private static string[] BuildMnemonics()
    {
        var names = new string[256];
        for (var v = 0; v < names.Length; v++)
        {
            names[v] = v < FirstUserVector
                ? string.Create(CultureInfo.InvariantCulture, $"reserved-{v}")
                : string.Create(CultureInfo.InvariantCulture, $"INT-{v}");
        }

        names[DE] = "#DE";
        names[DB] = "#DB";
        names[NMI] = "NMI";
        names[BP] = "#BP";
        names[OF] = "#OF";
        names[BR] = "#BR";
        names[UD] = "#UD";
        names[NM] = "#NM";
        names[DF] = "#DF";
        names[CSO] = "#CSO";
        names[TS] = "#TS";
        names[NP] = "#NP";
        names[SS] = "#SS";
        names[GP] = "#GP";
        names[PF] = "#PF";
        names[MF] = "#MF";
        names[AC] = "#AC";
        names[MC] = "#MC";
        names[XM] = "#XM";
        names[VE] = "#VE";
        names[CP] = "#CP";
        names[VC] = "#VC";
        names[SX] = "#SX";
        return names;
    }
}
