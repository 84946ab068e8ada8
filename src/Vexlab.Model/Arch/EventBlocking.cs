namespace Vexlab.Model.Arch;

/// <summary>Whether an interrupt, an NMI or an exception may be delivered now.</summary>
public static class EventBlocking
{
    /// <summary>
    /// The processor priority. SDM Vol. 3A 10.8.3.1 (11.8.3.1 in newer editions) "Task and Processor Priorities":
    /// PPR[7:4] = max(TPR[7:4], ISRV[7:4]); PPR[3:0] = TPR[3:0] if TPR[7:4] &gt;= ISRV[7:4], else 0.
    /// </summary>
    public static byte ProcessorPriority(byte tpr, byte highestInService)
    {
        // SDM 10.8.3.1: IF TPR[7:4] >= ISRV[7:4] THEN PPR := TPR ELSE PPR := ISRV[7:4] << 4.
        return (tpr >> 4) >= (highestInService >> 4) ? tpr : (byte)(highestInService & 0xF0);
    }

    /// <summary>
    /// A maskable (fixed) interrupt is accepted only with IF=1, no STI or MOV SS shadow, and a priority
    /// class strictly above PPR[7:4].
    /// </summary>
    public static bool CanAcceptInterrupt(in InterruptState s, byte vector)
    {
        // SDM Vol. 3A 6.8.1 (IF masks INTR) and 6.8.3 (STI / MOV SS shadow); Vol. 3C 26.3.1.5: injecting an
        // external interrupt requires blocking by STI and by MOV SS both 0.
        if (!s.If || s.Shadow != InterruptShadow.None)
        {
            return false;
        }

        // SDM Vol. 3A 10.8.3.1: the APIC dispatches a fixed interrupt only if vector[7:4] > PPR[7:4].
        return (vector >> 4) > (ProcessorPriority(s.Tpr, s.HighestInService) >> 4);
    }

    /// <summary>
    /// An NMI is accepted unless NMIs are blocked or a MOV SS shadow is active; an STI shadow also
    /// blocks it when <paramref name="stiBlocksNmi"/> (the SDM leaves that to the implementation).
    /// </summary>
    public static bool CanAcceptNmi(in InterruptState s, bool stiBlocksNmi = true)
    {
        // SDM Vol. 3A 6.7.1: NMI blocked from NMI delivery until the next IRET. Vol. 3C 26.3.1.5: injecting an
        // NMI requires blocking by MOV SS = 0, and on some processors blocking by STI = 0. KVM vmx_nmi_blocked()
        // (arch/x86/kvm/vmx/vmx.c) tests GUEST_INTR_STATE_MOV_SS | GUEST_INTR_STATE_STI | GUEST_INTR_STATE_NMI.
        if (s.NmiBlocked || s.Shadow == InterruptShadow.MovSs)
        {
            return false;
        }

        return !(stiBlocksNmi && s.Shadow == InterruptShadow.Sti);
    }

    /// <summary>
    /// Exceptions are never blocked by IF, TPR/PPR, an STI shadow or NMI blocking: they are synchronous to the
    /// instruction. SDM Vol. 3A 6.8.1 (IF affects only INTR); Vol. 3C 26.3.1.5 has no interruptibility check for
    /// hardware-exception injection. The one exception a shadow holds is #DB in a MOV SS shadow. The double-fault
    /// rule (<see cref="DoubleFault"/>) and, for #VE, the busy word (<see cref="VeConversion"/>) are the other gates.
    /// </summary>
    public static bool CanDeliverException(in InterruptState s, byte vector)
    {
        // SDM Vol. 3A 6.8.3: after MOV SS or POP SS the processor inhibits "interrupts, debug exceptions, and
        // single-step trap exceptions" until the boundary after the next instruction; "all other faults may still
        // be generated". The #DB stays pending and comes at that later boundary. STI's shadow blocks only INTR
        // (Vol. 2B STI; Vol. 3C Table 25-3 bit 0).
        return vector != Vectors.DB || s.Shadow != InterruptShadow.MovSs;
    }
}
