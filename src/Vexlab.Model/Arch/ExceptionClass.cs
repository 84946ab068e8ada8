namespace Vexlab.Model.Arch;

/// <summary>
/// The three classes the double-fault rule sorts exceptions into.
/// SDM Vol. 3A, Table 6-4 "Interrupt and Exception Classes".
/// </summary>
public enum ExceptionClass : byte
{
    /// <summary>Handled serially whatever comes before or after (also every INT n and INTR).</summary>
    Benign,

    /// <summary>#DE, #TS, #NP, #SS, #GP (and #CP in later editions).</summary>
    Contributory,

    /// <summary>#PF and #VE.</summary>
    PageFault,
}
