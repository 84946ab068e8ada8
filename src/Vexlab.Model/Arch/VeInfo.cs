namespace Vexlab.Model.Arch;

/// <summary>
/// The VE-information area (one 4 KiB page named by VMCS field 0x202A). SDM Vol. 3C Table 25-1 (2016 ed.);
/// Linux struct vmx_ve_information. Offsets are in <see cref="VeConversion"/>.
/// </summary>
/// <param name="ExitReason">Offset 0: the exit reason a VM exit would have saved (48).</param>
/// <param name="Busy">Offset 4: 0xFFFFFFFF after delivery; software writes 0 to allow the next #VE.</param>
/// <param name="ExitQualification">Offset 8: the exit qualification a VM exit would have saved.</param>
/// <param name="GuestLinearAddress">Offset 16: valid unless the violation came from loading PDPTEs.</param>
/// <param name="GuestPhysicalAddress">Offset 24.</param>
/// <param name="EptpIndex">Offset 32: the current EPTP index (VMFUNC EPTP switching).</param>
public readonly record struct VeInfo(uint ExitReason, uint Busy, ulong ExitQualification, ulong GuestLinearAddress, ulong GuestPhysicalAddress, ushort EptpIndex)
{
    /// <summary>
    /// What the processor writes when it delivers #VE: exit reason 48 and the busy word 0xFFFFFFFF
    /// (SDM Vol. 3C 25.5.6.2, 2016 ed.), so no further #VE until software clears offset 4.
    /// </summary>
    public static VeInfo WrittenOnDelivery(ulong exitQualification, ulong guestLinearAddress, ulong guestPhysicalAddress, ushort eptpIndex)
        => new(VeConversion.ExitReasonEptViolation, VeConversion.BusyValue, exitQualification, guestLinearAddress, guestPhysicalAddress, eptpIndex);

    /// <summary>The area after software has consumed it: the same fields with the busy word cleared.</summary>
    public VeInfo Released() => this with { Busy = 0 };
}
