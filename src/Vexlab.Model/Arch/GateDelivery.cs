namespace Vexlab.Model.Arch;

/// <summary>How delivering an event through the IDT, and returning with IRET, change the blocking state.</summary>
public static class GateDelivery
{
    /// <summary>
    /// The state at the first instruction of the handler. Delivery through an interrupt gate clears IF and TF
    /// (SDM Vol. 3A 6.12.1.3); Linux installs interrupt gates for every vector, so every handler starts with
    /// IF=0. The delivery ends any STI or MOV SS shadow (the shadow covers one instruction boundary, which the
    /// delivery has passed). An NMI sets blocking by NMI (SDM Vol. 3A 6.7.1); INT 2 runs the NMI handler
    /// without it (SDM Vol. 3A 6.3.3), so pass <paramref name="isNmi"/> false for INT 2.
    /// TPR and the in-service vector are unchanged: APIC acceptance and EOI are modelled by the caller.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="isNmi"/> with a vector other than 2.</exception>
    public static InterruptState AfterDelivery(in InterruptState s, byte vector, bool isNmi)
    {
        if (isNmi && vector != Vectors.NMI)
        {
            throw new ArgumentException("an NMI is delivered through vector 2", nameof(vector));
        }

        return s with { If = false, Shadow = InterruptShadow.None, NmiBlocked = s.NmiBlocked || isNmi };
    }

    /// <summary>
    /// The state after IRET: IF comes back from the saved RFLAGS, and NMI blocking ends. SDM Vol. 3A 6.7.1: the
    /// next IRET unblocks NMIs, including an IRET that returns from an exception taken inside the NMI handler
    /// (the nested-NMI problem). IRET leaves no interrupt shadow.
    /// </summary>
    public static InterruptState AfterIret(in InterruptState s, bool savedIf)
        => s with { If = savedIf, Shadow = InterruptShadow.None, NmiBlocked = false };
}
