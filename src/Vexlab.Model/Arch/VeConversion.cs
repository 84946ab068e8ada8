namespace Vexlab.Model.Arch;

/// <summary>What a convertible-or-not EPT violation becomes.</summary>
public enum VeDecision : byte
{
    /// <summary>A #VE (vector 20) delivered in the guest, no VM exit.</summary>
    VirtualizationException,

    /// <summary>An ordinary EPT-violation VM exit (basic exit reason 48).</summary>
    EptViolationExit,
}

/// <summary>The first condition that stopped the conversion to #VE, in the order the SDM lists them.</summary>
public enum VeBlocker : byte
{
    /// <summary>All conditions hold: the violation becomes #VE.</summary>
    None,

    /// <summary>The "EPT-violation #VE" secondary processor-based control (bit 18) is 0.</summary>
    ControlOff,

    /// <summary>Bit 63 ("suppress #VE") of the deciding EPT entry is 1.</summary>
    SuppressVe,

    /// <summary>CR0.PE = 0.</summary>
    ProtectedModeOff,

    /// <summary>The violation happened while delivering an event through the IDT.</summary>
    DuringEventDelivery,

    /// <summary>The 32-bit word at offset 4 of the VE-information area is not 0.</summary>
    BusyWordSet,
}

/// <summary>The inputs of the conversion decision.</summary>
/// <param name="EptViolationVeControl">Secondary processor-based VM-execution control bit 18.</param>
/// <param name="SuppressVeBit">Bit 63 of the deciding EPT entry: the not-present entry that ended the walk, or the leaf.</param>
/// <param name="Cr0Pe">CR0.PE.</param>
/// <param name="DuringEventDelivery">The access was part of delivering an event through the IDT.</param>
/// <param name="BusyWord">The 32 bits at offset 4 of the VE-information area.</param>
public readonly record struct VeConditions(bool EptViolationVeControl, bool SuppressVeBit, bool Cr0Pe, bool DuringEventDelivery, uint BusyWord);

/// <summary>
/// EPT violation to #VE conversion. SDM Vol. 3C 25.5.6 "Virtualization Exceptions" (2016 edition;
/// 26.5.7 / 27.5.x in later editions).
/// </summary>
public static class VeConversion
{
    /// <summary>What delivery writes at offset 4; software writes 0 to re-arm.</summary>
    public const uint BusyValue = 0xFFFFFFFF;

    /// <summary>Basic exit reason "EPT violation", also stored at offset 0 of the VE-information area.</summary>
    public const uint ExitReasonEptViolation = 48;

    /// <summary>Offset of the exit reason (4 bytes). SDM Vol. 3C Table 25-1 (2016 ed.).</summary>
    public const int OffsetExitReason = 0;

    /// <summary>Offset of the busy word (4 bytes).</summary>
    public const int OffsetBusy = 4;

    /// <summary>Offset of the exit qualification (8 bytes).</summary>
    public const int OffsetExitQualification = 8;

    /// <summary>Offset of the guest-linear address (8 bytes).</summary>
    public const int OffsetGuestLinear = 16;

    /// <summary>Offset of the guest-physical address (8 bytes).</summary>
    public const int OffsetGuestPhysical = 24;

    /// <summary>Offset of the EPTP index (2 bytes).</summary>
    public const int OffsetEptpIndex = 32;

    /// <summary>
    /// Decides between #VE and a VM exit, and names the first condition that failed (or
    /// <see cref="VeBlocker.None"/>).
    /// </summary>
    public static VeDecision Decide(in VeConditions c, out VeBlocker blocker)
    {
        // SDM Vol. 3C 25.5.6.1 (2016 ed.): convertible only if the "EPT-violation #VE" control is 1 ...
        if (!c.EptViolationVeControl)
        {
            blocker = VeBlocker.ControlOff;
        }

        // ... and bit 63 (suppress #VE) of the deciding EPT paging-structure entry is 0.
        else if (c.SuppressVeBit)
        {
            blocker = VeBlocker.SuppressVe;
        }

        // SDM Vol. 3C 25.5.6.1: a convertible violation causes #VE only if CR0.PE = 1 ...
        else if (!c.Cr0Pe)
        {
            blocker = VeBlocker.ProtectedModeOff;
        }

        // ... the processor is not delivering an event through the IDT ...
        else if (c.DuringEventDelivery)
        {
            blocker = VeBlocker.DuringEventDelivery;
        }

        // ... and the 32 bits at offset 4 of the VE-information area are all 0.
        else if (c.BusyWord != 0)
        {
            blocker = VeBlocker.BusyWordSet;
        }
        else
        {
            blocker = VeBlocker.None;
            return VeDecision.VirtualizationException;
        }

        return VeDecision.EptViolationExit;
    }
}
