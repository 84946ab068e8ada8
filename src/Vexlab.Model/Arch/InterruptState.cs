namespace Vexlab.Model.Arch;

/// <summary>
/// The one-instruction interrupt shadow. SDM Vol. 3C, Table 25-3 (24-3 in older editions),
/// guest interruptibility state bits 0 (blocking by STI) and 1 (blocking by MOV SS).
/// </summary>
public enum InterruptShadow : byte
{
    /// <summary>No shadow.</summary>
    None,

    /// <summary>STI executed with IF=0: maskable interrupts blocked until after the next instruction.</summary>
    Sti,

    /// <summary>MOV SS / POP SS: interrupts, NMIs and some #DB blocked until after the next instruction.</summary>
    MovSs,
}

/// <summary>The state that decides whether an event may be delivered at an instruction boundary.</summary>
/// <param name="If">RFLAGS.IF.</param>
/// <param name="Shadow">The interrupt shadow left by the previous instruction.</param>
/// <param name="NmiBlocked">Blocking by NMI (interruptibility bit 3): set by NMI delivery, cleared by IRET.</param>
/// <param name="Tpr">The full 8-bit task priority (class = Tpr &gt;&gt; 4; CR8 = Tpr[7:4] in 64-bit mode).</param>
/// <param name="HighestInService">The highest vector in the local APIC ISR, 0 when none is in service.</param>
public readonly record struct InterruptState(bool If, InterruptShadow Shadow, bool NmiBlocked, byte Tpr, byte HighestInService)
{
    /// <summary>IF=1, no shadow, NMIs unblocked, TPR 0, nothing in service.</summary>
    public static InterruptState Open => new(true, InterruptShadow.None, false, 0, 0);
}
